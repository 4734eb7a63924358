// AWS round trips per registry request through start:aws (issue 7): the API handler's DynamoDB and
// S3 calls counted in this process, the ingest service's through its call counters, and the body
// bytes each origin received from the front door. Each figure is the protocol minimum or a stated
// bound; a count above it is a regression of the adapters or the core.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageManifest, OCI_MANIFEST, pushBlobPut, putManifest, sha256, countedPerFile, pushBlobPatch, settleEvents, startUpload, streamed, withDigest, type Counted, type Measured } from '../../support/counted-start-aws.ts';

const MiB = 1024 * 1024;
const NO_BYTES = { requestBodies: {}, s3: { written: 0, read: 0 } };
let reg: Counted;
let base: string;

countedPerFile((r) => {
  reg = r;
  base = r.local.url;
});
// The first request into a project in a process reads the project (is it a pull-through cache? kept
// 5 min: core/proxy/projects.ts): one GetItem per project per container, made here unmeasured.
beforeAll(() => startUpload(base, 'rt/warm-up'));

/** One streamed PATCH with the whole blob (docker, skopeo, podman); returns the next Location. */
async function patchWhole(loc: string, bytes: Uint8Array): Promise<string> {
  const r = await fetch(loc, { method: 'PATCH', body: streamed(bytes), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
  await r.arrayBuffer();
  expect(r.status).toBe(202);
  return new URL(r.headers.get('location') ?? '', base).href;
}

describe('round trips through start:aws', () => {
  it('upload POST: one write, nothing else', async () => {
    const m = await reg.measure(() => startUpload(base, 'rt/post'));
    expect(m.api).toEqual({ dynamo: { PutItem: 1 }, s3: {} });
    expect(m.ingest).toEqual({ dynamo: {}, s3: {} });
  });

  it('manifest PUT: one BatchGetItem for the references plus one TransactWriteItems, which also writes the audit entry', async () => {
    const config = randomBytes(200);
    const layer = randomBytes(4096);
    await pushBlobPut(base, 'rt/put', config);
    await pushBlobPut(base, 'rt/put', layer);
    const img = imageManifest(config, [layer]);
    // The project's first audit entry in this process also lists the project (once): not measured.
    expect((await putManifest(base, 'rt/put', 'v0', img.manifest)).status).toBe(201);
    let status = 0;
    const m = await reg.measure(async () => {
      status = (await putManifest(base, 'rt/put', 'v1', img.manifest)).status;
    });
    expect(status).toBe(201);
    // The batch reads the references (link and manifest key per digest) and what the put itself
    // needs (the manifest, the tag, the catalog entry) together.
    // The push's audit entry is an item of that transaction (docs/auth.md, "Audit trail").
    expect(m.api).toEqual({ dynamo: { BatchGetItem: 1, TransactWriteItems: 1 }, s3: {} });
    expect(m.ingest).toEqual({ dynamo: {}, s3: {} });
  });

  it('manifest GET by tag: one DynamoDB read for a small manifest (the first pull of the day also one conditional write); HEAD the same', async () => {
    const config = randomBytes(100);
    await pushBlobPut(base, 'rt/get', config);
    const img = imageManifest(config, []);
    expect((await putManifest(base, 'rt/get', 'v1', img.manifest)).status).toBe(201);
    let body = Buffer.alloc(0);
    const get = async () => {
      const r = await fetch(`${base}/v2/rt/get/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
      body = Buffer.from(await r.arrayBuffer());
    };
    // The tag's last-pulled day, for retention (docs/gc.md): written by the day's first pull only.
    expect((await reg.measure(get)).api).toEqual({ dynamo: { GetItem: 1, UpdateItem: 1 }, s3: {} });
    const m = await reg.measure(get);
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
    // path: one HeadObject for the upload session the object names (x-amz-meta-upload), then one
    // transaction that ends it (whoever ends it records the upload, so a late event never re-links a
    // deleted blob), records the blob (first verified copy wins) and links it, counted in its
    // project's usage. (The events process reads a project's storage quota once per 10 s deployed,
    // once per file here: before this test.)
    expect(m.api).toEqual({ dynamo: {}, s3: {} });
    expect(m.events).toEqual({ dynamo: { TransactWriteItems: 1 }, s3: { HeadObject: 1 } });
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
    // The commit (API): the session taken out of the table (one conditional delete), the multipart
    // upload completed, then the blob record (first verified copy wins), its link and the entry of a
    // repository this process has not seen yet (read first) in one transaction.
    expect(put.api.dynamo).toEqual({ DeleteItem: 1, GetItem: 1, TransactWriteItems: 1 });
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
      next = await patchWhole(loc, bytes);
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

  /** DynamoDB requests of one measured step, all processes together. */
  const dynamo = (m: Measured): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const part of [m.api.dynamo, m.events.dynamo, m.ingest.dynamo]) for (const [k, v] of Object.entries(part)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const total = (counts: Record<string, number>[]): number => counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
  const blobsOfImage = () => [randomBytes(1500), randomBytes(6 * MiB), randomBytes(6 * MiB + 11), randomBytes(5 * MiB + 3)];

  it('a push as skopeo sends it (per blob HEAD, POST, one PATCH, PUT; then the manifest), 3 layers and a config: 27 DynamoDB requests (the audit entry in the manifest\'s transaction)', async () => {
    const repo = 'rt/skopeo';
    const blobs = blobsOfImage();
    const counts: Record<string, number>[] = [];
    for (const [i, bytes] of blobs.entries()) {
      const digest = sha256(bytes);
      const head = await reg.measure(async () => expect((await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404));
      expect(dynamo(head)).toEqual({ GetItem: 1 });
      let loc = '';
      const post = await reg.measure(async () => (loc = await startUpload(base, repo)));
      expect(dynamo(post)).toEqual({ PutItem: 1 });
      let next = '';
      const patch = await reg.measure(async () => {
        next = await patchWhole(loc, bytes);
      });
      // Taken and leased in one update, saved (and released) in another.
      expect(dynamo(patch)).toEqual({ UpdateItem: 2 });
      const put = await reg.measure(async () => {
        const r = await fetch(withDigest(next, digest), { method: 'PUT' });
        await r.arrayBuffer();
        expect(r.status).toBe(201);
      });
      // The session taken out (DeleteItem), then record + link (+ the new repository's entry, read
      // first, for the first blob) in one transaction.
      expect(dynamo(put)).toEqual(i === 0 ? { DeleteItem: 1, GetItem: 1, TransactWriteItems: 1 } : { DeleteItem: 1, TransactWriteItems: 1 });
      counts.push(dynamo(head), dynamo(post), dynamo(patch), dynamo(put));
    }
    const img = imageManifest(blobs[0]!, blobs.slice(1));
    const manifest = await reg.measure(() => putManifest(base, repo, 'v1', img.manifest));
    // The push's audit entry is an item of the manifest's transaction.
    expect(dynamo(manifest)).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    counts.push(dynamo(manifest));
    expect(total(counts)).toBe(27);
  });

  /** ctr's HEADs before a push: one per blob (the link, then the repository's own edge upload asked of S3: none), and the manifest's. */
  async function ctrHeads(repo: string, blobs: Uint8Array[]): Promise<Record<string, number>[]> {
    const counts: Record<string, number>[] = [];
    for (const bytes of blobs) {
      const head = await reg.measure(async () => expect((await fetch(`${base}/v2/${repo}/blobs/${sha256(bytes)}`, { method: 'HEAD' })).status).toBe(404));
      expect(head.api).toEqual({ dynamo: { GetItem: 1 }, s3: { HeadObject: 1 } });
      counts.push(dynamo(head));
    }
    const headManifest = await reg.measure(async () => expect((await fetch(`${base}/v2/${repo}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(404));
    expect(dynamo(headManifest)).toEqual({ GetItem: 1 });
    return [...counts, dynamo(headManifest)];
  }

  it('a push as ctr sends it through the edge (HEADs, then POST + one PUT per blob into S3, the events, the manifest): 15 DynamoDB requests (the audit entry in the manifest\'s transaction)', async () => {
    const repo = 'rt/ctr';
    const blobs = blobsOfImage();
    const img = imageManifest(blobs[0]!, blobs.slice(1));
    const counts = await ctrHeads(repo, blobs);
    for (const bytes of blobs) {
      let loc = '';
      const post = await reg.measure(async () => (loc = await startUpload(base, repo)));
      expect(dynamo(post)).toEqual({ PutItem: 1 });
      const put = await reg.measure(async () => {
        const r = await fetch(withDigest(loc, sha256(bytes)), { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
        await r.arrayBuffer();
        expect(r.status).toBe(201);
        await settleEvents(reg.local);
      });
      // Nothing in the API; the event ends the session and records + links in one transaction (with
      // the new repository's catalog entry, for the first).
      expect(put.api.dynamo).toEqual({});
      expect(put.events.dynamo).toEqual({ TransactWriteItems: 1 });
      counts.push(dynamo(post), dynamo(put));
    }
    const manifest = await reg.measure(() => putManifest(base, repo, 'v1', img.manifest));
    expect(dynamo(manifest)).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    counts.push(dynamo(manifest));
    expect(total(counts)).toBe(15);
  });

  it.each([
    ['new blobs', false],
    ['blobs another repository pushed before (recorded by the events handler, never seen by the API process)', true],
  ])('a push as ctr sends it whose storage events arrive after the manifest PUT (S3 notifications take ~1 s), %s: 20 DynamoDB requests, 16 when the blobs were pushed before (the audit entry in the manifest\'s transaction)', async (_, pushedBefore) => {
    const repo = pushedBefore ? 'rt/ctr-late-again' : 'rt/ctr-late';
    const blobs = blobsOfImage();
    const img = imageManifest(blobs[0]!, blobs.slice(1));
    if (pushedBefore) for (const bytes of blobs) await pushBlobPut(base, 'rt/ctr-late-first', bytes);
    const counts = await ctrHeads(repo, blobs);
    const push = await reg.measure(async () => {
      const release = reg.local.holdEvents();
      try {
        // POST + one PUT per blob, in parallel as ctr sends them, then the manifest at once.
        await Promise.all(blobs.map((bytes) => pushBlobPut(base, repo, bytes)));
        expect((await putManifest(base, repo, 'v1', img.manifest)).status).toBe(201);
      } finally {
        release(); // the events arrive now, after the manifest PUT
      }
    });
    // The API: the sessions; the manifest PUT's read of its references and, for the blobs not linked
    // yet, of what recording them needs; each edge upload recorded (its session ended, the blob
    // recorded and linked) in one transaction; the manifest's own transaction (with the push's audit entry).
    expect(push.api.dynamo).toEqual({ PutItem: 4, BatchGetItem: 2, TransactWriteItems: 5 });
    // (Commands, not attempts: s3rver on a loaded machine may make the SDK send one twice.)
    expect(push.apiCalls.s3).toEqual({ HeadObject: 4, ...(pushedBefore ? { DeleteObject: 4 } : {}) });
    // The late events: each one transaction, refused (the session was ended with the recording);
    // none where the object is gone (a duplicate of the earlier push's copy, deleted once recorded).
    expect(push.events.dynamo).toEqual(pushedBefore ? {} : { TransactWriteItems: 4 });
    counts.push(dynamo(push));
    expect(total(counts)).toBe(pushedBefore ? 16 : 20);
    for (const bytes of blobs) expect((await fetch(`${base}/v2/${repo}/blobs/${sha256(bytes)}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('the same image pushed again to another repository (its blobs recorded already, as in every bench run after the first): still 2 requests per PUT', async () => {
    const blobs = blobsOfImage();
    for (const bytes of blobs) await pushBlobPatch(base, 'rt/first', bytes);
    for (const [i, bytes] of blobs.entries()) {
      const loc = await startUpload(base, 'rt/again');
      let next = '';
      next = await patchWhole(loc, bytes);
      const put = await reg.measure(async () => expect((await fetch(withDigest(next, sha256(bytes)), { method: 'PUT' })).status).toBe(201));
      // This process recorded the first copies: the transaction checks the record it knows and links
      // that copy (a process that had not seen it learns it from a first, failed transaction: see
      // test/adapters/dynamodb/dynamo-round-trips.test.ts); the duplicate bytes are deleted.
      expect(put.api.dynamo).toEqual(i === 0 ? { DeleteItem: 1, GetItem: 1, TransactWriteItems: 1 } : { DeleteItem: 1, TransactWriteItems: 1 });
      expect(put.api.s3.DeleteObject).toBe(1);
    }
  });
});
