// Chunked and streamed blob uploads and the life of a session (end-5, end-6, end-13): PATCH with
// and without Content-Range, streamed PATCH, out-of-order chunks, status, cancel, PUT completion
// errors, and concurrent sessions.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import {
  registryPerFile,
  bytes,
  expectError,
  expectHeadError,
  expectStatus,
  flipMiddle,
  locationPath,
  randomDigest,
  sha256,
  uniqueRepo,
  type Client,
} from './client.ts';
import { backend } from '../support/registry.ts';
import { uploadHelpers } from './upload-helpers.ts';

let c: Client;
registryPerFile((client) => (c = client));
const { readBlob, expectProgress, patch, put, expectCreated } = uploadHelpers(() => c);

describe('PATCH (chunked and streamed uploads)', () => {
  it('chunks with Content-Range, then an empty PUT ?digest= -> 201', async () => {
    const repo = uniqueRepo('chunk');
    const data = bytes(3000);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    const r1 = await patch(location, data.subarray(0, 1000), '0-999');
    const loc1 = expectProgress(r1, 202, repo, uuid, 1000);
    assert.equal(r1.headers.get('content-length'), '0');
    const r2 = await patch(loc1, data.subarray(1000, 2500), '1000-2499');
    const loc2 = expectProgress(r2, 202, repo, uuid, 2500);
    const r3 = await patch(loc2, data.subarray(2500), '2500-2999');
    const loc3 = expectProgress(r3, 202, repo, uuid, 3000);
    const done = await put(loc3, digest);
    expectCreated(done, repo, digest);
    assert.equal(done.headers.get('content-length'), '0');
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('PATCH without Content-Range (whole blob with Content-Length, skopeo style)', async () => {
    const repo = uniqueRepo('chunk');
    const data = bytes(20_000);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, data), 202, repo, uuid, data.length);
    expectCreated(await put(loc, digest), repo, digest);
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('consecutive PATCHes without Content-Range append', async () => {
    const repo = uniqueRepo('chunk');
    const data = bytes(900);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    const l1 = expectProgress(await patch(location, data.subarray(0, 400)), 202, repo, uuid, 400);
    const l2 = expectProgress(await patch(l1, data.subarray(400)), 202, repo, uuid, 900);
    expectCreated(await put(l2, digest), repo, digest);
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('streamed PATCH (chunked transfer-encoding, no Content-Length) -> 202, then PUT -> 201', async () => {
    const repo = uniqueRepo('stream');
    const parts = [bytes(64 * 1024), bytes(1), bytes(200_000), bytes(1024 * 1024 + 7)];
    const data = Buffer.concat(parts);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        const p = parts[i++];
        if (p === undefined) ctl.close();
        else ctl.enqueue(p);
      },
    });
    const loc = expectProgress(await patch(location, stream), 202, repo, uuid, data.length);
    expectCreated(await put(loc, digest), repo, digest);
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('PATCH then a final chunk in the PUT body', async () => {
    const repo = uniqueRepo('chunk');
    const data = bytes(2048);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, data.subarray(0, 1500), '0-1499'), 202, repo, uuid, 1500);
    expectCreated(await put(loc, digest, data.subarray(1500)), repo, digest);
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('out-of-order chunk -> 416 BLOB_UPLOAD_INVALID with the current Range; the session keeps working', async () => {
    const repo = uniqueRepo('order');
    const data = bytes(300);
    const digest = sha256(data);
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, data.subarray(0, 100), '0-99'), 202, repo, uuid, 100);

    const gap = await patch(loc, data.subarray(150, 250), '150-249');
    expectError(gap, 416, 'BLOB_UPLOAD_INVALID');
    assert.equal(gap.headers.get('range'), '0-99', gap.where);

    const overlap = await patch(loc, data.subarray(50, 150), '50-149');
    expectError(overlap, 416, 'BLOB_UPLOAD_INVALID');
    assert.equal(overlap.headers.get('range'), '0-99', overlap.where);

    const status = await c.get(loc);
    expectProgress(status, 204, repo, uuid, 100);

    const next = expectProgress(await patch(loc, data.subarray(100), '100-299'), 202, repo, uuid, 300);
    expectCreated(await put(next, digest), repo, digest);
    assert.ok((await readBlob(repo, digest)).equals(data));
  });

  it('Content-Range announcing bytes with an empty body -> 400 SIZE_INVALID, nothing appended', async () => {
    const repo = uniqueRepo('order');
    const { location, uuid } = await c.startUpload(repo);
    expectError(await c.req('PATCH', location, { headers: { 'content-range': '0-9' } }), 400, 'SIZE_INVALID');
    // Also with no Content-Length and no Transfer-Encoding at all (an HTTP/1.1 request without a body).
    const u = new URL(location, c.base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname, () => {
        socket.end(`PATCH ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Range: 0-9\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /, raw.slice(0, 200));
    assert.match(raw, /"code":"SIZE_INVALID"/);
    expectProgress(await c.get(location), 204, repo, uuid, 0);
  });

  it('first chunk not starting at 0 -> 416 BLOB_UPLOAD_INVALID', async () => {
    const repo = uniqueRepo('order');
    const { location } = await c.startUpload(repo);
    expectError(await patch(location, bytes(10), '5-14'), 416, 'BLOB_UPLOAD_INVALID');
  });

  it('Content-Range length differing from the body length is refused and nothing is appended', async () => {
    const repo = uniqueRepo('order');
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, bytes(10), '0-9'), 202, repo, uuid, 10);
    const r = await patch(loc, bytes(5), '10-19');
    // A chunk that does not start at the upload's size: 400 SIZE_INVALID or 416
    if (r.status === 400) expectError(r, 400, 'SIZE_INVALID');
    else expectError(r, 416, 'BLOB_UPLOAD_INVALID');
    expectProgress(await c.get(loc), 204, repo, uuid, 10);
  });
});

describe('GET upload status', () => {
  it('-> 204 with Location, Range and Docker-Upload-UUID (0-0 when empty)', async () => {
    const repo = uniqueRepo('status');
    const { location, uuid } = await c.startUpload(repo);
    const empty = await c.get(location);
    expectProgress(empty, 204, repo, uuid, 0);
    assert.equal(empty.body.length, 0);
    const loc = expectProgress(await patch(location, bytes(77), '0-76'), 202, repo, uuid, 77);
    expectProgress(await c.get(loc), 204, repo, uuid, 77);
  });

  it('unknown upload id -> 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const repo = uniqueRepo('status');
    await c.startUpload(repo);
    const id = '2f8c1a9e-8a4b-4c5d-9e6f-0a1b2c3d4e5f';
    expectError(await c.get(`/v2/${repo}/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await c.req('PATCH', `/v2/${repo}/blobs/uploads/${id}`, { body: bytes(3) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await c.req('PUT', `/v2/${repo}/blobs/uploads/${id}?digest=${encodeURIComponent(randomDigest())}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await c.delete(`/v2/${repo}/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it("repo A's upload Location used under repo B -> 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const a = uniqueRepo('status');
    const b = uniqueRepo('status');
    await c.startUpload(b);
    const { location } = await c.startUpload(a);
    const path = locationPath(c, (await c.startUpload(a)).reply);
    const moved = path.replace(`/v2/${a}/`, `/v2/${b}/`);
    assert.notEqual(moved, path);
    expectError(await c.get(moved), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await c.req('PATCH', moved, { body: bytes(3) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    const data = bytes(3);
    expectError(await put(moved, sha256(data), data), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectHeadError(await c.head(`/v2/${b}/blobs/${sha256(data)}`), 404);
    // The original session is untouched.
    expectStatus(await c.get(location), 204);
  });

  it('tampered _state token -> 400 BLOB_UPLOAD_INVALID', async () => {
    const repo = uniqueRepo('status');
    const { location } = await c.startUpload(repo);
    const u = new URL(location, `${c.base}/`);
    const state = u.searchParams.get('_state') ?? '';
    assert.ok(state.length > 4, location);
    u.searchParams.set('_state', flipMiddle(state));
    const bad = `${u.pathname}${u.search}`;
    expectError(await c.get(bad), 400, 'BLOB_UPLOAD_INVALID');
    expectError(await c.req('PATCH', bad, { body: bytes(4) }), 400, 'BLOB_UPLOAD_INVALID');
    // The genuine Location still works and saw no bytes.
    expectStatus(await c.get(location), 204);
  });
});

describe('DELETE upload (cancel)', () => {
  it('-> 204; afterwards GET/PATCH/PUT on it -> 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const repo = uniqueRepo('cancel');
    const data = bytes(50);
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, data, '0-49'), 202, repo, uuid, 50);
    const r = await c.delete(loc);
    expectStatus(r, 204);
    assert.equal(r.headers.get('content-length'), null, 'a 204 carries no Content-Length');
    expectError(await c.get(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await patch(loc, bytes(5), '50-54'), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await put(loc, sha256(data)), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectError(await c.delete(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectHeadError(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 404);
  });
});

describe('PUT completion errors', () => {
  it('missing digest -> 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('fin');
    const data = bytes(20);
    const { location } = await c.startUpload(repo);
    expectError(await put(location, undefined, data), 400, 'DIGEST_INVALID');
    expectHeadError(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 404);
  });

  it('digest mismatch -> 400 DIGEST_INVALID, nothing stored, and the session is gone', async () => {
    const repo = uniqueRepo('fin');
    const data = bytes(200);
    const claimed = randomDigest();
    const { location, uuid } = await c.startUpload(repo);
    const loc = expectProgress(await patch(location, data, '0-199'), 202, repo, uuid, 200);
    expectError(await put(loc, claimed), 400, 'DIGEST_INVALID');
    expectHeadError(await c.head(`/v2/${repo}/blobs/${claimed}`), 404);
    expectHeadError(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 404);
    expectError(await c.get(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('digest mismatch in a single PUT with body -> 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('fin');
    const data = bytes(200);
    const other = sha256(bytes(200));
    const { location } = await c.startUpload(repo);
    const r = await put(location, other, data);
    if (backend() === 'aws') {
      // docs/edge.md (Limits): the edge sends this PUT straight to S3, which refuses bytes that do not
      // match x-amz-checksum-sha256 with its own 400 BadDigest (CloudFront runs no viewer-response
      // function on an origin error); the API never sees the PUT, so the session stays until its TTL.
      assert.equal(r.status, 400, r.where);
      assert.match(r.text, /<Code>BadDigest<\/Code>/, r.where);
      expectHeadError(await c.head(`/v2/${repo}/blobs/${other}`), 404);
      expectHeadError(await c.head(`/v2/${repo}/blobs/${sha256(data)}`), 404);
      expectStatus(await c.get(location), 204);
      return;
    }
    expectError(r, 400, 'DIGEST_INVALID');
    expectHeadError(await c.head(`/v2/${repo}/blobs/${other}`), 404);
    expectError(await c.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('concurrency', () => {
  it('concurrent uploads of the same blob into two repos both succeed', async () => {
    const repos = [uniqueRepo('conc'), uniqueRepo('conc'), uniqueRepo('conc')];
    const data = bytes(512 * 1024);
    const digest = sha256(data);
    const sessions = await Promise.all(repos.map((r) => c.startUpload(r)));
    const patched = await Promise.all(sessions.map((s) => patch(s.location, data)));
    const locs = patched.map((r, i) => expectProgress(r, 202, repos[i] ?? '', sessions[i]?.uuid ?? '', data.length));
    const done = await Promise.all(locs.map((l) => put(l, digest)));
    done.forEach((r, i) => expectCreated(r, repos[i] ?? '', digest));
    for (const repo of repos) assert.ok((await readBlob(repo, digest)).equals(data));
    // And a second round of single PUTs racing each other.
    const more = [uniqueRepo('conc'), uniqueRepo('conc')];
    const data2 = bytes(100_000);
    await Promise.all(more.map((r) => c.uploadBlob(r, data2)));
    for (const repo of more) assert.ok((await readBlob(repo, sha256(data2))).equals(data2));
  });

  it('interleaved chunks of two sessions in one repo stay separate', async () => {
    const repo = uniqueRepo('conc');
    const a = bytes(200);
    const b = bytes(200);
    const sa = await c.startUpload(repo);
    const sb = await c.startUpload(repo);
    const la = expectProgress(await patch(sa.location, a.subarray(0, 100), '0-99'), 202, repo, sa.uuid, 100);
    const lb = expectProgress(await patch(sb.location, b.subarray(0, 100), '0-99'), 202, repo, sb.uuid, 100);
    const la2 = expectProgress(await patch(la, a.subarray(100), '100-199'), 202, repo, sa.uuid, 200);
    const lb2 = expectProgress(await patch(lb, b.subarray(100), '100-199'), 202, repo, sb.uuid, 200);
    expectCreated(await put(lb2, sha256(b)), repo, sha256(b));
    expectCreated(await put(la2, sha256(a)), repo, sha256(a));
    assert.ok((await readBlob(repo, sha256(a))).equals(a));
    assert.ok((await readBlob(repo, sha256(b))).equals(b));
  });
});
