// Blob HEAD / GET (307 to a signed URL, Range) / DELETE (end-2, end-10) and repository isolation.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import type { Client} from './client.ts';
import { backend } from '../support/registry.ts';
import { registryPerFile, bytes, flipMiddle, expectError, expectErrorBody, expectHeadError, expectStatus, randomDigest, sha256, sha512, uniqueRepo, withQuery, type Reply } from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

/**
 * GET the blob, assert the 307, and return the absolute signed URL it points at: the local server's
 * own /_blobs/ path, or under start:aws an S3 presigned GET (SigV4 query) on the S3 endpoint.
 */
async function signedUrl(repo: string, digest: string): Promise<string> {
  const r = await c.get(`/v2/${repo}/blobs/${digest}`);
  expectStatus(r, 307);
  assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
  const loc = r.headers.get('location');
  assert.ok(loc, `no Location: ${r.where}`);
  const u = new URL(loc, `${c.base}/`);
  if (backend() === 'aws') {
    assert.equal(u.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256', `not an S3 presigned URL: ${loc}`);
    assert.ok(u.searchParams.get('X-Amz-Signature'), `not an S3 presigned URL: ${loc}`);
    assert.match(u.searchParams.get('X-Amz-Expires') ?? '', /^[1-9][0-9]*$/, `no expiry: ${loc}`);
    return u.toString();
  }
  assert.equal(u.origin, new URL(c.base).origin, `signed URL on another origin: ${loc}`);
  assert.ok(u.pathname.startsWith('/_blobs/'), `signed URL path should start with /_blobs/: ${loc}`);
  return u.toString();
}

/** Changes one character of the signed part of a URL: the longest query value, else the last path segment. */
function tamper(url: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()];
  if (params.length > 0) {
    const [key, value] = params.reduce((a, b) => (b[1].length > a[1].length ? b : a));
    u.searchParams.set(key, flipMiddle(value));
    return u.toString();
  }
  const segs = u.pathname.split('/');
  segs[segs.length - 1] = flipMiddle(segs[segs.length - 1] ?? '');
  u.pathname = segs.join('/');
  return u.toString();
}

describe('HEAD blob', () => {
  it('linked blob -> 200 with Content-Length, Docker-Content-Digest, octet-stream, no body', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(1234);
    const digest = await c.uploadBlob(repo, data);
    const r = await c.head(`/v2/${repo}/blobs/${digest}`);
    expectStatus(r, 200);
    assert.equal(r.headers.get('content-length'), '1234', r.where);
    assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    assert.equal(r.headers.get('content-type'), 'application/octet-stream', r.where);
    assert.equal(r.body.length, 0);
  });

  it('unknown blob -> 404 without a body', async () => {
    const repo = uniqueRepo('blobs');
    await c.uploadBlob(repo, bytes(10));
    expectHeadError(await c.head(`/v2/${repo}/blobs/${randomDigest()}`), 404);
  });

  it('empty blob (0 bytes) -> 200 with Content-Length 0', async () => {
    const repo = uniqueRepo('blobs');
    const digest = await c.uploadBlob(repo, new Uint8Array());
    assert.equal(digest, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const r = await c.head(`/v2/${repo}/blobs/${digest}`);
    expectStatus(r, 200);
    assert.equal(r.headers.get('content-length'), '0', r.where);
  });

  it('sha512 blob can be uploaded and addressed by its sha512 digest', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(777);
    const digest = sha512(data);
    const post = await c.req('POST', withQuery(`/v2/${repo}/blobs/uploads/`, 'digest', digest), { body: data });
    expectStatus(post, 201);
    assert.equal(post.headers.get('docker-content-digest'), digest, post.where);
    const r = await c.head(`/v2/${repo}/blobs/${digest}`);
    expectStatus(r, 200);
    assert.equal(r.headers.get('content-length'), '777', r.where);
    assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    const got = await c.get(await signedUrl(repo, digest));
    expectBytes(got, data);
  });
});

/** 403 DENIED from the signed blob URL (it stands in for S3/CloudFront: no API version header required). */
function expectSignedUrlDenied(r: Reply): void {
  assert.equal(r.status, 403, r.where);
  expectErrorBody(r, 'DENIED');
}

function expectBytes(r: Reply, data: Uint8Array): void {
  assert.equal(r.status, 200, r.where);
  assert.equal(r.headers.get('content-length'), String(data.length), r.where);
  assert.ok(r.body.equals(Buffer.from(data)), `bytes differ: ${r.where}`);
}

describe('GET blob', () => {
  it('-> 307 to a signed URL (/_blobs/ on the same server; S3 presigned under start:aws), which serves the bytes', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(5000);
    const digest = await c.uploadBlob(repo, data);
    const url = await signedUrl(repo, digest);
    const r = await c.get(url);
    expectBytes(r, data);
    assert.equal(sha256(r.body), digest);
  });

  it('unknown blob -> 404 BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('blobs');
    await c.uploadBlob(repo, bytes(10));
    expectError(await c.get(`/v2/${repo}/blobs/${randomDigest()}`), 404, 'BLOB_UNKNOWN');
  });

  it('empty blob -> 307, then 200 with no bytes', async () => {
    const repo = uniqueRepo('blobs');
    const digest = await c.uploadBlob(repo, new Uint8Array());
    const r = await c.get(await signedUrl(repo, digest));
    expectBytes(r, new Uint8Array());
  });

  it('signed URL supports Range: bytes=a-b (206 + Content-Range)', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(1000);
    const digest = await c.uploadBlob(repo, data);
    const url = await signedUrl(repo, digest);
    const r = await c.get(url, { range: 'bytes=100-199' });
    assert.equal(r.status, 206, r.where);
    assert.equal(r.headers.get('content-range'), 'bytes 100-199/1000', r.where);
    assert.equal(r.headers.get('content-length'), '100', r.where);
    assert.ok(r.body.equals(data.subarray(100, 200)));

    const last = await c.get(url, { range: 'bytes=999-999' });
    assert.equal(last.status, 206, last.where);
    assert.equal(last.headers.get('content-range'), 'bytes 999-999/1000', last.where);
    assert.ok(last.body.equals(data.subarray(999)));
  });

  it('signed URL supports an open-ended Range (resumed pull): bytes=a-', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(1000);
    const digest = await c.uploadBlob(repo, data);
    const r = await c.get(await signedUrl(repo, digest), { range: 'bytes=600-' });
    assert.equal(r.status, 206, r.where);
    assert.equal(r.headers.get('content-range'), 'bytes 600-999/1000', r.where);
    assert.ok(r.body.equals(data.subarray(600)));
  });

  it('unsatisfiable Range -> 416', async () => {
    const repo = uniqueRepo('blobs');
    const data = bytes(1000);
    const digest = await c.uploadBlob(repo, data);
    const r = await c.get(await signedUrl(repo, digest), { range: 'bytes=1000-1100' });
    assert.equal(r.status, 416, r.where);
  });

  // The registry's own signed URL only: an S3 presigned URL is S3's to verify, and s3rver verifies no signature.
  it('tampered signature -> 403 DENIED', async (t) => {
    if (backend() === 'aws') t.skip('an S3 presigned URL is S3\'s to verify, and s3rver verifies no signature');
    const repo = uniqueRepo('blobs');
    const data = bytes(100);
    const digest = await c.uploadBlob(repo, data);
    const url = await signedUrl(repo, digest);
    const bad = tamper(url);
    assert.notEqual(bad, url);
    expectSignedUrlDenied(await c.get(bad));
    // The untouched URL still works.
    expectBytes(await c.get(url), data);
  });

  // As above: S3 checks its own signatures (s3rver none).
  it('a signed URL with the path pointing at another blob -> 403 DENIED', async (t) => {
    if (backend() === 'aws') t.skip('an S3 presigned URL is S3\'s to verify, and s3rver verifies no signature');
    const repo = uniqueRepo('blobs');
    const a = bytes(100);
    const b = bytes(100);
    const da = await c.uploadBlob(repo, a);
    const db = await c.uploadBlob(repo, b);
    const url = await signedUrl(repo, da);
    const hexA = da.slice('sha256:'.length);
    const hexB = db.slice('sha256:'.length);
    // The local server's signed blob path names the digest (/_blobs/<digest>?...): a URL without it
    // is a wrong answer, not a reason to skip.
    assert.ok(url.includes(hexA), `the signed URL does not name the digest: ${url}`);
    expectSignedUrlDenied(await c.get(url.replace(hexA, hexB)));
  });
});

describe('repository isolation', () => {
  it('a blob pushed to repo A is 404 through repo B until linked there', async () => {
    const a = uniqueRepo('iso');
    const b = uniqueRepo('iso');
    const data = bytes(321);
    const digest = await c.uploadBlob(a, data);
    await c.uploadBlob(b, bytes(5)); // b exists, but does not have the blob
    expectHeadError(await c.head(`/v2/${b}/blobs/${digest}`), 404);
    expectError(await c.get(`/v2/${b}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    // A never-seen repo does not see it either.
    const ghost = uniqueRepo('iso');
    expectHeadError(await c.head(`/v2/${ghost}/blobs/${digest}`), 404);
    // Pushing it into b links it.
    await c.uploadBlob(b, data);
    expectStatus(await c.head(`/v2/${b}/blobs/${digest}`), 200);
  });
});

describe('DELETE blob', () => {
  it('-> 202, then HEAD/GET 404 in that repo only', async () => {
    const a = uniqueRepo('del');
    const b = uniqueRepo('del');
    const data = bytes(400);
    const digest = await c.uploadBlob(a, data);
    await c.uploadBlob(b, data);
    const r = await c.delete(`/v2/${a}/blobs/${digest}`);
    expectStatus(r, 202);
    expectHeadError(await c.head(`/v2/${a}/blobs/${digest}`), 404);
    expectError(await c.get(`/v2/${a}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    // Still linked in b and readable there.
    expectStatus(await c.head(`/v2/${b}/blobs/${digest}`), 200);
    expectBytes(await c.get(await signedUrl(b, digest)), data);
    // Deleting again -> unknown.
    expectError(await c.delete(`/v2/${a}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('unknown blob -> 404 BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('del');
    await c.uploadBlob(repo, bytes(3));
    expectError(await c.delete(`/v2/${repo}/blobs/${randomDigest()}`), 404, 'BLOB_UNKNOWN');
  });

  it('a deleted blob can be pushed again', async () => {
    const repo = uniqueRepo('del');
    const data = bytes(50);
    const digest = await c.uploadBlob(repo, data);
    expectStatus(await c.delete(`/v2/${repo}/blobs/${digest}`), 202);
    await c.uploadBlob(repo, data);
    expectBytes(await c.get(await signedUrl(repo, digest)), data);
  });
});
