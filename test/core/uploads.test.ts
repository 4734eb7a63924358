// Blob uploads through the core on real adapters: bodies that fail midway (small, large, sha512,
// in the final PUT, monolithic) roll back to the previous state, wrong Content-Length and
// Content-Range change nothing, overlapping appends to one session cannot corrupt it, and a
// session's Location works only under its own repository and with its genuine _state.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { BodyReadError } from '../../functions/core/http.ts';
import {
  assertError,
  filesUnder,
  replaceMethod,
  setup,
  sha256,
  sha512,
  startSession,
  stream,
  uploadSizeOnDisk,
  utf8,
  withDigest,
} from './real-adapters.ts';

const MiB = 1024 * 1024;

/** A body that yields `parts`, then fails the way the entry point reports a broken request body. */
async function* failing(parts: Uint8Array[], error: Error = new BodyReadError(new Error('client went away'))): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
  throw error;
}

describe('blob uploads on real adapters', () => {
  it('chunked upload: POST, PATCH, PATCH with Content-Range, PUT ?digest', async (t) => {
    const f = await setup(t);
    const a = randomBytes(1000);
    const b = randomBytes(500);
    const loc = await startSession(f, 'r/x');
    const p1 = await f.call('PATCH', loc, { body: a, chunked: true });
    assert.equal(p1.status, 202, p1.where);
    assert.equal(p1.headers.range, '0-999');
    const p2 = await f.call('PATCH', p1.headers.location ?? '', { body: b, headers: { 'content-range': '1000-1499' } });
    assert.equal(p2.status, 202, p2.where);
    assert.equal(p2.headers.range, '0-1499');
    const digest = sha256(Buffer.concat([a, b]));
    const put = await f.call('PUT', withDigest(p2.headers.location ?? '', digest));
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers.location, `/v2/r/x/blobs/${digest}`);
    assert.equal(put.headers['docker-content-digest'], digest);
    const head = await f.call('HEAD', `/v2/r/x/blobs/${digest}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '1500');
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), Buffer.concat([a, b]));
    assert.deepEqual(await filesUnder(f, 'uploads'), [], 'no upload leftovers');
  });

  it('a body that fails midway leaves the upload exactly as before (size, then digest)', async (t) => {
    const f = await setup(t);
    const first = randomBytes(10);
    const loc = await startSession(f, 'r/x');
    const ok = await f.call('PATCH', loc, { body: first });
    assert.equal(ok.status, 202, ok.where);
    assert.equal(ok.headers.range, '0-9');

    // Broken chunked body, and a broken body with Content-Range/Content-Length.
    const broken1 = await f.call('PATCH', loc, { body: failing([randomBytes(7), randomBytes(3)]) });
    assert.ok(broken1.status >= 400 && broken1.status < 500, broken1.where);
    assert.notEqual(broken1.errorCode, 'UNKNOWN', broken1.where);
    const broken2 = await f.call('PATCH', loc, {
      body: failing([randomBytes(5)]),
      headers: { 'content-range': '10-29', 'content-length': '20' },
    });
    assert.ok(broken2.status >= 400 && broken2.status < 500, broken2.where);

    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, status.where);
    assert.equal(status.headers.range, '0-9', 'size unchanged by the failed requests');
    assert.equal(await uploadSizeOnDisk(f, loc), 10, 'no stray bytes on disk');

    const rest = randomBytes(6);
    const digest = sha256(Buffer.concat([first, rest]));
    const put = await f.call('PUT', withDigest(loc, digest), { body: rest });
    assert.equal(put.status, 201, put.where);
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), Buffer.concat([first, rest]));
  });

  it('a large body (> one 4 MiB write batch) failing midway is rolled back too', async (t) => {
    const f = await setup(t);
    const first = randomBytes(1 * MiB);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PATCH', loc, { body: failing([randomBytes(3 * MiB), randomBytes(3 * MiB)]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const status = await f.call('GET', loc);
    assert.equal(status.headers.range, `0-${MiB - 1}`, status.where);
    assert.equal(await uploadSizeOnDisk(f, loc), MiB);
    const digest = sha256(first);
    const put = await f.call('PUT', withDigest(loc, digest));
    assert.equal(put.status, 201, put.where);
    assert.equal((await stat(f.blobs.blobPath(digest))).size, MiB);
  });

  it('a failed sha512 upload chunk leaves the sha512 digest as before', async (t) => {
    const f = await setup(t);
    const first = randomBytes(4096);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PATCH', loc, { body: failing([randomBytes(100)]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const put = await f.call('PUT', withDigest(loc, sha512(first)));
    assert.equal(put.status, 201, put.where);
  });

  it('a final PUT chunk that fails midway keeps the session, which can then be completed', async (t) => {
    const f = await setup(t);
    const first = randomBytes(100);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([first, utf8('tail')]))), { body: failing([utf8('ta')]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, status.where);
    assert.equal(status.headers.range, '0-99');
    const put = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([first, utf8('tail')]))), { body: utf8('tail') });
    assert.equal(put.status, 201, put.where);
  });

  it('a body shorter or longer than its Content-Length is SIZE_INVALID and changes nothing', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: utf8('0123456789') })).status, 202);
    const short = await f.call('PATCH', loc, { body: stream(utf8('abc')), headers: { 'content-length': '5' } });
    assert.ok(short.status === 400 || short.status === 416, short.where);
    const long = await f.call('PATCH', loc, { body: stream(utf8('abcdefg')), headers: { 'content-length': '5' } });
    assert.ok(long.status === 400 || long.status === 416, long.where);
    const status = await f.call('GET', loc);
    assert.equal(status.headers.range, '0-9', status.where);
    assert.equal(await uploadSizeOnDisk(f, loc), 10);
    const put = await f.call('PUT', withDigest(loc, sha256('0123456789')));
    assert.equal(put.status, 201, put.where);
  });

  it('a failing monolithic POST ?digest= stores nothing', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(2000);
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: failing([bytes.subarray(0, 1000)]) });
    assert.ok(r.status >= 400 && r.status < 500, r.where);
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404);
  });

  it('Content-Range not at the current size: 416 with the current Range, nothing appended', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: utf8('0123456789') })).status, 202);
    for (const range of ['0-2', '5-7', '11-13']) {
      const r = await f.call('PATCH', loc, { body: utf8('abc'), headers: { 'content-range': range } });
      assertError(r, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal(r.headers.range, '0-9', r.where);
    }
    assert.equal(await uploadSizeOnDisk(f, loc), 10);
  });
});

describe('concurrent appends to one session', () => {
  it('an append while another is streaming is refused; the first one wins intact', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    const a1 = randomBytes(1000);
    const a2 = randomBytes(1000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstChunkTaken!: () => void;
    const midway = new Promise<void>((resolve) => (firstChunkTaken = resolve));
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield a1;
      firstChunkTaken();
      await gate;
      yield a2;
    }
    const pendingA = f.call('PATCH', loc, { body: slow() });
    await midway;
    const b = await f.call('PATCH', loc, { body: utf8('BBBB') });
    release();
    const a = await pendingA;
    assert.ok(b.status >= 400 && b.status < 500, `the overlapping append is refused: ${b.where}`);
    assert.notEqual(b.errorCode, 'UNKNOWN');
    assert.equal(a.status, 202, a.where);
    assert.equal(a.headers.range, '0-1999');
    assert.equal(await uploadSizeOnDisk(f, loc), 2000);
    const put = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([a1, a2]))));
    assert.equal(put.status, 201, put.where);
  });

  it('an append that read the session before a competing append completed cannot destroy that append', async (t) => {
    // B reads the session (size 0), then A appends and commits its size; only then does B stream its
    // body at the stale offset. The conditional update makes B lose; A's bytes must survive.
    let holdNextRead: Promise<void> | undefined;
    let readTaken!: () => void;
    const bHasRead = new Promise<void>((resolve) => (readTaken = resolve));
    const f = await setup(t, {
      wrapMetadata: (m) =>
        replaceMethod(m, 'getUpload', async (id: string) => {
          const snapshot = await m.getUpload(id);
          const hold = holdNextRead;
          if (hold) {
            holdNextRead = undefined;
            readTaken();
            await hold;
          }
          return snapshot;
        }),
    });
    const loc = await startSession(f, 'r/x');
    let release!: () => void;
    holdNextRead = new Promise<void>((resolve) => (release = resolve));
    const pendingB = f.call('PATCH', loc, { body: utf8('BBBBBBBB') });
    await bHasRead;
    const aBytes = randomBytes(5000);
    const a = await f.call('PATCH', loc, { body: aBytes });
    assert.equal(a.status, 202, a.where);
    assert.equal(a.headers.range, '0-4999');
    release();
    const b = await pendingB;
    assert.ok(b.status >= 400 && b.status < 500, `the stale append is refused: ${b.where}`);

    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, `the session survives the losing request: ${status.where}`);
    assert.equal(status.headers.range, '0-4999');
    const put = await f.call('PUT', withDigest(loc, sha256(aBytes)));
    assert.equal(put.status, 201, `A's upload completes with A's bytes: ${put.where}`);
    assert.deepEqual(await readFile(f.blobs.blobPath(sha256(aBytes))), aBytes);
    assert.deepEqual(f.errors, [], 'no unexpected errors');
  });
});

describe('upload Locations across repositories', () => {
  it('an upload Location of repo A used under repo B is 404 BLOB_UPLOAD_UNKNOWN', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/a');
    const moved = loc.replace('/v2/r/a/', '/v2/r/b/');
    assert.notEqual(moved, loc);
    assertError(await f.call('GET', moved), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PATCH', moved, { body: utf8('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    const bare = new URL(moved, 'http://h').pathname;
    assertError(await f.call('GET', bare), 404, 'BLOB_UPLOAD_UNKNOWN');
    // The original still works and is untouched.
    const ok = await f.call('GET', loc);
    assert.equal(ok.status, 204, ok.where);
    assert.equal(ok.headers.range, '0-0');
  });

  it('a tampered _state is 400 BLOB_UPLOAD_INVALID', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/a');
    const u = new URL(loc, 'http://h');
    const state = u.searchParams.get('_state') ?? '';
    u.searchParams.set('_state', `${state.slice(0, -3)}AAA` === state ? `${state.slice(0, -3)}BBB` : `${state.slice(0, -3)}AAA`);
    assertError(await f.call('GET', `${u.pathname}${u.search}`), 400, 'BLOB_UPLOAD_INVALID');
  });
});
