// start:aws only: a blob GET answers 307 to an S3 presigned GET (the AWS counterpart of the local
// server's /_blobs/ URL, tested in blob-url.test.ts), and that URL serves the bytes with byte ranges
// (a resumed pull), for a blob the edge PUT straight into S3 and for one uploaded through the API.
// Ranges as S3 answers them: a suffix range is the last bytes, a range S3 ignores serves the whole.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { onlyOnBackend } from '../support/registry.ts';
import { registryPerFile, bytes, expectStatus, sha256, uniqueRepo, withQuery, type Client, type Reply } from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

const SIZE = 1000;

/** GET /v2/<repo>/blobs/<digest>: asserts the 307 to an S3 presigned GET and returns it. */
async function presigned(repo: string, digest: string): Promise<string> {
  const r = await c.get(`/v2/${repo}/blobs/${digest}`);
  expectStatus(r, 307);
  assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
  const u = new URL(r.headers.get('location') ?? '', `${c.base}/`);
  assert.notEqual(u.origin, new URL(c.base).origin, `the bytes come from S3, not the registry: ${u}`);
  assert.equal(u.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256', u.toString());
  assert.ok(u.searchParams.get('X-Amz-Signature'), u.toString());
  const expires = Number(u.searchParams.get('X-Amz-Expires'));
  assert.ok(expires > 0 && expires <= 3600, `a short-lived URL: ${u}`);
  return u.toString();
}

function expectRange(r: Reply, data: Buffer, first: number, last: number): void {
  assert.equal(r.status, 206, r.where);
  assert.equal(r.headers.get('content-range'), `bytes ${first}-${last}/${data.length}`, r.where);
  assert.equal(r.headers.get('content-length'), String(last - first + 1), r.where);
  assert.ok(r.body.equals(data.subarray(first, last + 1)), `bytes differ: ${r.where}`);
}

async function uploadChunked(repo: string, data: Buffer): Promise<string> {
  const { location } = await c.startUpload(repo);
  const patched = await c.req('PATCH', location, { body: data, headers: { 'content-type': 'application/octet-stream' } });
  expectStatus(patched, 202);
  const digest = sha256(data);
  const done = await c.req('PUT', withQuery(patched.headers.get('location') ?? '', 'digest', digest));
  expectStatus(done, 201);
  return digest;
}

describe('blob GET under start:aws: 307 to an S3 presigned GET', () => {
  onlyOnBackend('aws', 'S3 presigned blob URLs exist only under start:aws (npm start serves its own /_blobs/ URLs)');
  for (const [label, upload] of [
    ['a blob the edge PUT into S3', (repo: string, data: Buffer) => c.uploadBlob(repo, data)],
    ['a blob uploaded by PATCH + PUT through the API', uploadChunked],
  ] as const) {
    it(`${label}: the whole blob, HEAD, byte ranges, and 416 past the end`, async () => {
      const repo = uniqueRepo('s3url');
      const data = bytes(SIZE);
      const digest = await upload(repo, data);
      const url = await presigned(repo, digest);
      const whole = await c.get(url);
      assert.equal(whole.status, 200, whole.where);
      assert.ok(whole.body.equals(data), whole.where);
      assert.equal(sha256(whole.body), digest);
      const head = await c.head(url);
      assert.equal(head.status, 200, head.where);
      assert.equal(head.headers.get('content-length'), String(SIZE), head.where);
      expectRange(await c.get(url, { range: 'bytes=0-99' }), data, 0, 99);
      expectRange(await c.get(url, { range: 'bytes=999-999' }), data, 999, 999);
      // A resumed pull: everything from an offset on.
      expectRange(await c.get(url, { range: 'bytes=600-' }), data, 600, 999);
      expectRange(await c.get(url, { range: 'bytes=500-5000' }), data, 500, 999);
      assert.equal((await c.get(url, { range: 'bytes=1000-2000' })).status, 416);
      expectRange(await c.get(url, { range: 'bytes=-500' }), data, 500, 999);
      const ignored = await c.get(url, { range: 'bytes=500-0' });
      assert.equal(ignored.status, 200, ignored.where);
      assert.ok(ignored.body.equals(data), ignored.where);
    });
  }
});
