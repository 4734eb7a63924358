// Blob uploads that finish in one request or none (end-4a/4b, end-6, end-11): opening a session,
// monolithic POST ?digest=, POST + one PUT with the whole body, and cross-repository mounts.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import {
  registryPerFile,
  bytes,
  expectError,
  expectHeadError,
  expectStatus,
  randomDigest,
  sha256,
  uniqueRepo,
  withQuery,
  type Client,
} from './client.ts';
import { backend } from '../support/registry.ts';
import { uploadHelpers } from './upload-helpers.ts';

let c: Client;
registryPerFile((client) => (c = client));
const { readBlob, expectProgress, put, expectCreated } = uploadHelpers(() => c);

describe('POST /v2/<name>/blobs/uploads/ (open a session)', () => {
  it('-> 202 with Location, Range 0-0, Docker-Upload-UUID, OCI-Chunk-Min-Length, Content-Length 0', async () => {
    const repo = uniqueRepo('up');
    const r = await c.req('POST', `/v2/${repo}/blobs/uploads/`);
    expectStatus(r, 202);
    const uuid = r.headers.get('docker-upload-uuid');
    assert.ok(uuid, r.where);
    const loc = r.headers.get('location') ?? '';
    assert.ok(loc.startsWith(`/v2/${repo}/blobs/uploads/${uuid}?`), `Location should be a relative path with the uuid: ${loc}`);
    assert.ok(new URL(loc, c.base).searchParams.get('_state'), `Location should carry _state: ${loc}`);
    assert.equal(r.headers.get('range'), '0-0');
    assert.match(r.headers.get('oci-chunk-min-length') ?? '', /^[1-9][0-9]*$/, r.where);
    assert.equal(r.headers.get('content-length'), '0');
    assert.equal(r.body.length, 0);
  });

  it('two sessions get different ids', async () => {
    const repo = uniqueRepo('up');
    const a = await c.startUpload(repo);
    const b = await c.startUpload(repo);
    assert.notEqual(a.uuid, b.uuid);
  });
});

describe('monolithic POST ?digest=', () => {
  it('-> 201 with Location and Docker-Content-Digest; the blob is stored', async () => {
    const repo = uniqueRepo('mono');
    const data = bytes(4321);
    const digest = sha256(data);
    const r = await c.req('POST', withQuery(`/v2/${repo}/blobs/uploads/`, 'digest', digest), {
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expectCreated(r, repo, digest);
    const head = await c.head(`/v2/${repo}/blobs/${digest}`);
    expectStatus(head, 200);
    assert.equal(head.headers.get('content-length'), '4321');
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('wrong digest -> 400 DIGEST_INVALID and nothing stored', async () => {
    const repo = uniqueRepo('mono');
    const data = bytes(100);
    const claimed = randomDigest();
    const r = await c.req('POST', withQuery(`/v2/${repo}/blobs/uploads/`, 'digest', claimed), { body: data });
    expectError(r, 400, 'DIGEST_INVALID');
    expectHeadError(await c.head(`/v2/${repo}/blobs/${claimed}`), 404);
    expectHeadError(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 404);
  });
});

describe('POST + PUT (single PUT with the whole body)', () => {
  it('-> 201, Location, Docker-Content-Digest, Content-Length 0', async () => {
    const repo = uniqueRepo('put');
    const data = bytes(10_000);
    const digest = sha256(data);
    const { location } = await c.startUpload(repo);
    const r = await put(location, digest, data);
    expectCreated(r, repo, digest);
    assert.equal(r.headers.get('content-length'), '0');
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('the session is gone after completion (404 BLOB_UPLOAD_UNKNOWN)', async () => {
    const repo = uniqueRepo('put');
    const data = bytes(10);
    const { location } = await c.startUpload(repo);
    expectCreated(await put(location, sha256(data), data), repo, sha256(data));
    if (backend() === 'aws') {
      // This PUT went from the edge straight to S3, and the edge keeps no session state: the session
      // ends when the blob is recorded, by its storage event or by the first request that needs the
      // blob before that (here the HEAD).
      expectStatus(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 200);
    }
    expectError(await c.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('the Location survives re-encoding of its query, as Go clients do (url.Values.Encode)', async () => {
    const repo = uniqueRepo('put');
    const data = bytes(64);
    const digest = sha256(data);
    const { location } = await c.startUpload(repo);
    const u = new URL(location, `${c.base}/`);
    const q = new URLSearchParams(u.search);
    q.set('digest', digest);
    q.sort();
    const r = await c.req('PUT', `${u.pathname}?${q.toString()}`, { body: data });
    expectCreated(r, repo, digest);
  });

  it('uploading the same blob twice into one repo succeeds both times', async () => {
    const repo = uniqueRepo('put');
    const data = bytes(99);
    await c.uploadBlob(repo, data);
    await c.uploadBlob(repo, data);
    assert.ok((await readBlob(repo, sha256(data))).equals(data));
  });

  it('a zero-byte blob', async () => {
    const repo = uniqueRepo('put');
    const { location } = await c.startUpload(repo);
    const digest = sha256(new Uint8Array());
    expectCreated(await put(location, digest), repo, digest);
    const head = await c.head(`/v2/${repo}/blobs/${digest}`);
    expectStatus(head, 200);
    assert.equal(head.headers.get('content-length'), '0');
  });
});

describe('cross-repository mount', () => {
  it('mount=<d>&from=<repo with the blob> -> 201 with Location and Docker-Content-Digest', async () => {
    const src = uniqueRepo('mount');
    const dst = uniqueRepo('mount');
    const data = bytes(1500);
    const digest = await c.uploadBlob(src, data);
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(src)}`);
    expectCreated(r, dst, digest);
    const head = await c.head(`/v2/${dst}/blobs/${digest}`);
    expectStatus(head, 200);
    assert.equal(head.headers.get('content-length'), '1500');
    assert.ok((await readBlob(dst, digest)).equals(data));
    // Unlinking in the source does not affect the mounted copy.
    expectStatus(await c.delete(`/v2/${src}/blobs/${digest}`), 202);
    assert.ok((await readBlob(dst, digest)).equals(data));
  });

  it('from a repo without the blob -> falls back to a 202 upload session that works', async () => {
    const src = uniqueRepo('mount');
    const dst = uniqueRepo('mount');
    await c.uploadBlob(src, bytes(10));
    const data = bytes(600);
    const digest = sha256(data);
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(src)}`);
    expectStatus(r, 202);
    const uuid = r.headers.get('docker-upload-uuid') ?? '';
    assert.ok(uuid, r.where);
    const loc = expectProgress(r, 202, dst, uuid, 0);
    expectCreated(await put(loc, digest, data), dst, digest);
  });

  it('from a repo that exists but where the blob was pushed to another repo -> 202', async () => {
    const holder = uniqueRepo('mount');
    const src = uniqueRepo('mount');
    const dst = uniqueRepo('mount');
    const digest = await c.uploadBlob(holder, bytes(30));
    await c.uploadBlob(src, bytes(31));
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(src)}`);
    expectStatus(r, 202);
    expectHeadError(await c.head(`/v2/${dst}/blobs/${digest}`), 404);
  });

  it('from a repo that does not exist -> 202', async () => {
    const dst = uniqueRepo('mount');
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(randomDigest())}&from=${encodeURIComponent(uniqueRepo('ghost'))}`);
    expectStatus(r, 202);
    assert.ok(r.headers.get('docker-upload-uuid'), r.where);
  });

  it('mount without from -> 202 upload session (even if another repo has the blob)', async () => {
    const src = uniqueRepo('mount');
    const dst = uniqueRepo('mount');
    const data = bytes(80);
    const digest = await c.uploadBlob(src, data);
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(digest)}`);
    expectStatus(r, 202);
    const uuid = r.headers.get('docker-upload-uuid') ?? '';
    const loc = expectProgress(r, 202, dst, uuid, 0);
    expectCreated(await put(loc, digest, data), dst, digest);
  });

  it('a mount that cannot be done (empty or invalid from, malformed digest) falls back to a 202 session, as distribution does', async () => {
    const src = uniqueRepo('mount');
    const dst = uniqueRepo('mount');
    const data = bytes(50);
    const digest = await c.uploadBlob(src, data);
    for (const q of [`mount=${encodeURIComponent(digest)}&from=`, `mount=${encodeURIComponent(digest)}&from=Not_Valid`, `mount=sha256:1234&from=${src}`, 'mount=&from=', 'mount=md5:x']) {
      const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?${q}`);
      const loc = expectProgress(r, 202, dst, r.headers.get('docker-upload-uuid') ?? '', 0);
      assert.ok(r.headers.get('oci-chunk-min-length'), `${q}: a real session`);
      expectStatus(await c.req('DELETE', loc), 204);
    }
    expectStatus(await c.head(`/v2/${dst}/blobs/${digest}`), 404);
    // The session it falls back to takes the blob as usual.
    const r = await c.req('POST', `/v2/${dst}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=`);
    expectCreated(await put(expectProgress(r, 202, dst, r.headers.get('docker-upload-uuid') ?? '', 0), digest, data), dst, digest);
  });
});
