// AWS round trips per registry request through start:aws (issue 7): the API handler's DynamoDB and
// S3 calls counted in this process, the ingest service's through its call counters, and the body
// bytes each origin received from the front door. Each figure is the protocol minimum or a stated
// bound; a count above it is a regression of the adapters or the core.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { imageManifest, OCI_MANIFEST, pushBlobPut, putManifest, sha256, countedPerFile, startUpload, streamed, withDigest, type Counted } from '../../support/counted-start-aws.ts';

const MiB = 1024 * 1024;
const NO_BYTES = { requestBodies: {}, s3: { written: 0, read: 0 } };
let reg: Counted;
let base: string;

countedPerFile((r) => {
  reg = r;
  base = r.local.url;
});

describe('round trips through start:aws', () => {
  it('upload POST: one write, nothing else', async () => {
    const m = await reg.measure(() => startUpload(base, 'rt/post'));
    expect(m.api).toEqual({ dynamo: { PutItem: 1 }, s3: {} });
    expect(m.ingest).toEqual({ dynamo: {}, s3: {} });
  });

  it('manifest PUT: one BatchGetItem for the references plus one TransactWriteItems', async () => {
    const config = randomBytes(200);
    const layer = randomBytes(4096);
    await pushBlobPut(base, 'rt/put', config);
    await pushBlobPut(base, 'rt/put', layer);
    const img = imageManifest(config, [layer]);
    let status = 0;
    const m = await reg.measure(async () => {
      status = (await putManifest(base, 'rt/put', 'v1', img.manifest)).status;
    });
    expect(status).toBe(201);
    // The batch reads the references (link and manifest key per digest) and what the put itself
    // needs (the manifest, the tag, the catalog entry) together.
    expect(m.api).toEqual({ dynamo: { BatchGetItem: 1, TransactWriteItems: 1 }, s3: {} });
    expect(m.ingest).toEqual({ dynamo: {}, s3: {} });
  });

  it('manifest GET by tag: one DynamoDB read for a small manifest; HEAD the same', async () => {
    const config = randomBytes(100);
    await pushBlobPut(base, 'rt/get', config);
    const img = imageManifest(config, []);
    expect((await putManifest(base, 'rt/get', 'v1', img.manifest)).status).toBe(201);
    let body = Buffer.alloc(0);
    const m = await reg.measure(async () => {
      const r = await fetch(`${base}/v2/rt/get/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      body = Buffer.from(await r.arrayBuffer());
    });
    expect(sha256(body)).toBe(img.digest);
    expect(m.api).toEqual({ dynamo: { GetItem: 1 }, s3: {} });
    const h = await reg.measure(async () => {
      const r = await fetch(`${base}/v2/rt/get/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
      expect(r.headers.get('docker-content-digest')).toBe(img.digest);
    });
    expect(h.api).toEqual({ dynamo: { GetItem: 1 }, s3: {} });
  });

  it('blob HEAD: one read; blob GET: one read, no S3 call, 307 to a presigned URL', async () => {
    const bytes = randomBytes(1000);
    const digest = await pushBlobPut(base, 'rt/blob', bytes);
    const head = await reg.measure(async () => {
      const r = await fetch(`${base}/v2/rt/blob/blobs/${digest}`, { method: 'HEAD' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-length')).toBe('1000');
    });
    expect(head.api).toEqual({ dynamo: { GetItem: 1 }, s3: {} });
    let location = '';
    const get = await reg.measure(async () => {
      const r = await fetch(`${base}/v2/rt/blob/blobs/${digest}`, { redirect: 'manual' });
      expect(r.status).toBe(307);
      location = r.headers.get('location') ?? '';
    });
    expect(get.api).toEqual({ dynamo: { GetItem: 1 }, s3: {} });
    // The presigned URL is computed here: a GetObject command that never reaches the network.
    expect(get.apiCalls.s3).toEqual({ GetObject: 1 });
    expect(new URL(location).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    const bytesBack = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(bytesBack.equals(bytes)).toBe(true);
  });

  it('a monolithic PUT with a sha256 digest (containerd): edge -> S3, no request to the API or ingest, the event records and links it', async () => {
    await pushBlobPut(base, 'rt/edge', randomBytes(10)); // the repository exists (its catalog entry is known)
    const bytes = randomBytes(6 * MiB);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'rt/edge');
    const m = await reg.measure(async () => {
      const r = await fetch(withDigest(loc, digest), { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      await r.arrayBuffer();
      expect(r.status).toBe(201);
      expect(r.headers.get('docker-content-digest')).toBe(digest);
    });
    expect(m.bytes).toEqual({ api: 0, ingest: 0, s3: bytes.length });
    // Counted inside the compute processes themselves: no body byte read, none moved through S3.
    expect(m.compute).toEqual({ api: NO_BYTES, ingest: NO_BYTES });
    // The API takes no part. The events handler (its own Lambda, its own clients), off the client's
    // path: one HeadObject for the upload session the object names (x-amz-meta-upload) and one
    // GetItem to see whether it was recorded already (so a late event never re-links a deleted blob),
    // then the blob record (first verified copy wins) and the link, and the session ends.
    expect(m.api).toEqual({ dynamo: {}, s3: {} });
    expect(m.events).toEqual({ dynamo: { GetItem: 1, PutItem: 2, DeleteItem: 1 }, s3: { HeadObject: 1 } });
    expect(m.ingest).toEqual({ dynamo: {}, s3: {} });
  });

  it('a blob sent in one streamed PATCH: one multipart upload (ingest), one part per 8 MiB, no copy, no re-read, no bytes through the API', async () => {
    const bytes = randomBytes(40 * MiB + 123);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'rt/patch');
    let next = '';
    const patch = await reg.measure(async () => {
      const r = await fetch(loc, { method: 'PATCH', body: streamed(bytes), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
      await r.arrayBuffer();
      expect(r.status).toBe(202);
      expect(r.headers.get('range')).toBe(`0-${bytes.length - 1}`);
      next = new URL(r.headers.get('location') ?? '', base).href;
    });
    // Parts of 8 MiB while more than 13 MiB are held, then the rest (>= 5 MiB) as the last part.
    expect(patch.ingest.s3).toEqual({ CreateMultipartUpload: 1, UploadPart: 5 });
    // The session: read and leased in one conditional update, then its state saved with the offset
    // (which releases the lease).
    expect(patch.ingest.dynamo).toEqual({ UpdateItem: 2 });
    expect(patch.api).toEqual({ dynamo: {}, s3: {} });
    expect(patch.bytes).toEqual({ api: 0, ingest: bytes.length, s3: 0 });
    expect(patch.compute).toEqual({ api: NO_BYTES, ingest: { requestBodies: { upload: bytes.length }, s3: { written: bytes.length, read: 0 } } });

    const put = await reg.measure(async () => {
      const r = await fetch(withDigest(next, digest), { method: 'PUT' });
      await r.arrayBuffer();
      expect(r.status).toBe(201);
    });
    // The commit (API): the session read and leased (one update), the multipart upload completed, the
    // blob recorded (first verified copy wins), linked into a repository this process has not seen
    // yet (its catalog entry read, then link + entry in one transaction), the session deleted.
    expect(put.api.dynamo).toEqual({ GetItem: 1, UpdateItem: 1, PutItem: 1, TransactWriteItems: 1, DeleteItem: 1 });
    expect(put.api.s3).toEqual({ CompleteMultipartUpload: 1 });
    expect(put.ingest).toEqual({ dynamo: {}, s3: {} });
    expect(put.bytes).toEqual({ api: 0, ingest: 0, s3: 0 });
    expect(put.compute).toEqual({ api: NO_BYTES, ingest: NO_BYTES });

    const r = await fetch(`${base}/v2/rt/patch/blobs/${digest}`);
    expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(digest);
  });

  it.each([1024, 3 * MiB])('a blob of %i bytes sent in one PATCH: one write at its final key, committed by clearing its pending tag (no copy, no re-read)', async (size) => {
    const bytes = randomBytes(size);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'rt/small');
    let next = '';
    const patch = await reg.measure(async () => {
      const r = await fetch(loc, { method: 'PATCH', body: streamed(bytes), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
      await r.arrayBuffer();
      expect(r.status).toBe(202);
      next = new URL(r.headers.get('location') ?? '', base).href;
    });
    const put = await reg.measure(async () => {
      const r = await fetch(withDigest(next, digest), { method: 'PUT' });
      await r.arrayBuffer();
      expect(r.status).toBe(201);
    });
    // The PATCH (ingest): one conditional write of the bytes at the blob's final key, tagged pending.
    expect(patch.ingest.s3).toEqual({ PutObject: 1 });
    expect(patch.api.s3).toEqual({});
    // The commit (API): the digest checked against the saved running hash, then the tag cleared.
    expect(put.api.s3).toEqual({ PutObjectTagging: 1 });
    expect(put.ingest.s3).toEqual({});
    expect(put.bytes).toEqual({ api: 0, ingest: 0, s3: 0 });
    expect(patch.compute).toEqual({ api: NO_BYTES, ingest: { requestBodies: { upload: size }, s3: { written: size, read: 0 } } });
    const r = await fetch(`${base}/v2/rt/small/blobs/${digest}`);
    expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(digest);
  });

  it('a PATCH with a small declared body goes to the API: its bytes are counted inside the handler, and written once to S3', async () => {
    const bytes = randomBytes(MiB);
    const loc = await startUpload(base, 'rt/api-body');
    const m = await reg.measure(async () => {
      const r = await fetch(loc, { method: 'PATCH', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      await r.arrayBuffer();
      expect(r.status).toBe(202);
    });
    expect(m.bytes).toEqual({ api: bytes.length, ingest: 0, s3: 0 });
    expect(m.compute).toEqual({ api: { requestBodies: { upload: bytes.length }, s3: { written: bytes.length, read: 0 } }, ingest: NO_BYTES });
  });
});
