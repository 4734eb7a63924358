// A chunked upload whose five PATCHes each reach a different ingest process (issue 17): the first
// process hashes natively, every later one must rebuild the hash state from what is stored, and one
// of them starts after a SIGKILL between chunks. The blob still gets the right digest, and a wrong
// digest is still refused.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { countedPerFile, sha256, startUpload, streamed, withDigest, type Counted } from '../../support/counted-start-aws.ts';

const MiB = 1024 * 1024;
let reg: Counted;
let base: string;

countedPerFile((r) => {
  reg = r;
  base = r.local.url;
});

/** The upload body bytes the running ingest process has read since it started (its /healthz/calls). */
async function ingestBytesRead(): Promise<number> {
  const r = await fetch(`${reg.local.ingest!.url}/healthz/calls`);
  const got = (await r.json()) as { bytes: { requestBodies: Record<string, number> } };
  return got.bytes.requestBodies.upload ?? 0;
}

/** One PATCH of `chunk` at `offset` (Content-Range, streamed without Content-Length); the next Location. */
async function patch(location: string, chunk: Uint8Array, offset: number): Promise<string> {
  const r = await fetch(location, {
    method: 'PATCH',
    body: streamed(chunk),
    duplex: 'half',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
  } as RequestInit);
  const text = await r.text();
  expect(r.status, text).toBe(202);
  expect(r.headers.get('range')).toBe(`0-${offset + chunk.length - 1}`);
  return new URL(r.headers.get('location')!, base).href;
}

/** Pushes `chunks` as PATCHes, a new ingest process for each; the one for chunk `crashBefore` follows a SIGKILL. */
async function pushAcrossProcesses(repo: string, chunks: Uint8Array[], crashBefore: number): Promise<{ location: string; pids: number[] }> {
  const ingest = reg.local.ingest!;
  let location = await startUpload(base, repo);
  let offset = 0;
  const pids: number[] = [];
  for (const [i, chunk] of chunks.entries()) {
    if (i === crashBefore) {
      ingest.kill('SIGKILL');
      await ingest.restart(); // waits for the killed process to exit, then starts a new one
    } else await ingest.restart();
    pids.push(ingest.pid);
    expect(await ingestBytesRead()).toBe(0);
    location = await patch(location, chunk, offset);
    // This process, and no other, read this chunk's bytes.
    expect(await ingestBytesRead()).toBe(chunk.length);
    offset += chunk.length;
  }
  return { location, pids };
}

it('five PATCHes through five ingest processes, one after a SIGKILL: the right digest, and a wrong one refused', { timeout: 240_000 }, async () => {
  const chunks = [6 * MiB, 1000, 6 * MiB + 7, 3 * MiB, 5 * MiB].map((n) => randomBytes(n));
  const whole = Buffer.concat(chunks);
  const digest = sha256(whole);

  const good = await pushAcrossProcesses('chunks/good', chunks, 3);
  expect(new Set(good.pids).size).toBe(5);
  const put = await fetch(withDigest(good.location, digest), { method: 'PUT' });
  expect(put.status, await put.text()).toBe(201);
  expect(put.headers.get('docker-content-digest')).toBe(digest);
  const got = await fetch(`${base}/v2/chunks/good/blobs/${digest}`);
  expect(got.status).toBe(200);
  expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(digest);

  // The same five processes' story with a digest that is not the bytes': refused, nothing linked.
  const bad = await pushAcrossProcesses('chunks/bad', chunks, 2);
  const wrong = sha256(Buffer.from('not these bytes'));
  const refused = await fetch(withDigest(bad.location, wrong), { method: 'PUT' });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DIGEST_INVALID');
  expect((await fetch(`${base}/v2/chunks/bad/blobs/${wrong}`, { method: 'HEAD' })).status).toBe(404);
  expect((await fetch(`${base}/v2/chunks/bad/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
});
