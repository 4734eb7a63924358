// Stopping the registry started the README's way (`npm start`) by signalling npm alone, as
// `docker stop`, systemd and `kill $!` do: the port closes at once, the process group is gone within
// the documented time, and an upload in flight is either finished or cleanly gone.
import { describe, it, expect, afterEach } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STOP_DEADLINE_MS, STOP_GRACE_MS } from '../../../functions/apps/server/server.ts';
import { startRegistry } from '../../support/registry.ts';
import { alive, killGroup, npmStart, waitUntil, type NpmStarted } from '../../support/npm-start.ts';
import { connectionRefused, waitForUploadLease } from '../../support/in-flight.ts';

const MiB = 1024 * 1024;
const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A request whose body is written up to `sent` bytes, the rest only when `finish()` is called. */
function partialRequest(url: string, method: string, body: Buffer, sent: number, headers: Record<string, string> = {}) {
  let finish = (): void => undefined;
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, sent));
    finish = () => void req.end(body.subarray(sent));
  });
  return { response, finish: () => finish() };
}

/** POST + one complete PATCH; returns the Location for the next request and the upload id. */
async function startChunkedUpload(base: string, repo: string, first: Buffer): Promise<{ location: URL; id: string }> {
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(post.status).toBe(202);
  const patch = await fetch(new URL(post.headers.get('location')!, base), {
    method: 'PATCH',
    body: first,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${first.length - 1}` },
  });
  expect(patch.status).toBe(202);
  expect(patch.headers.get('range')).toBe(`0-${first.length - 1}`);
  const location = new URL(patch.headers.get('location')!, base);
  return { location, id: location.pathname.split('/').at(-1)! };
}

describe('stopping `npm start` with a signal to npm alone', { timeout: 60_000 }, () => {
  let started: NpmStarted | undefined;
  const dirs: string[] = [];
  const newDataDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'registry-first-run-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    killGroup(started?.npm.pid);
    started = undefined;
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM: the port closes at once, the upload in flight finishes, npm and node exit 0 well within the documented time', async () => {
    const dataDir = await newDataDir();
    started = await npmStart(dataDir);
    const { npm, port, registryPid } = started;
    expect(registryPid).not.toBe(npm.pid);
    expect(alive(registryPid)).toBe(true);

    const first = randomBytes(MiB);
    const last = randomBytes(4 * MiB);
    const digest = digestOf(Buffer.concat([first, last]));
    const { location, id } = await startChunkedUpload(started.url, 'first/run', first);
    location.searchParams.set('digest', digest);
    const put = partialRequest(location.href, 'PUT', last, 2 * MiB);
    put.response.catch(() => undefined); // awaited below; not unhandled if an assertion fails first
    // The PUT is in flight once its handler holds the upload's lease.
    await waitForUploadLease(dataDir, id);

    const signalled = performance.now();
    process.kill(npm.pid!, 'SIGTERM');
    const portClosedMs = await waitUntil(() => connectionRefused(port), 1_000, 'port closed to new connections');
    expect(alive(registryPid), 'the registry waits for the upload in flight').toBe(true);
    put.finish();
    const answer = await put.response;
    expect(answer.status).toBe(201);
    expect(answer.headers['docker-content-digest']).toBe(digest);

    await waitUntil(() => !alive(npm.pid!, true), STOP_DEADLINE_MS, 'process group gone');
    const stopMs = performance.now() - signalled;
    expect(alive(registryPid)).toBe(false);
    expect(await started.exited).toEqual({ code: 0, signal: null });
    // Nothing was left to wait for once the upload had finished: no grace period spent.
    expect(stopMs).toBeLessThan(STOP_GRACE_MS);
    const log = started.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; signal?: string });
    expect(log.find((e) => e.msg === 'shutting down')?.signal).toBe('SIGTERM');
    expect(log.at(-1)?.msg).toBe('stopped');
    console.log(`SIGTERM to npm: port closed after ${portClosedMs.toFixed(0)} ms, process group gone ${stopMs.toFixed(0)} ms after the signal`);

    // The next start serves the blob whole.
    const next = await startRegistry({ dataDir });
    try {
      const blob = await fetch(`${next.url}/v2/first/run/blobs/${digest}`);
      expect(blob.status).toBe(200);
      expect(digestOf(Buffer.from(await blob.arrayBuffer()))).toBe(digest);
      expect(await readdir(join(dataDir, 'uploads'))).toEqual([]);
    } finally {
      await next.stop();
    }
  });

  it('SIGTERM with an upload stalled mid-chunk: cut after the grace period, rolled back to its last whole chunk, resumable after the next start', async () => {
    const dataDir = await newDataDir();
    started = await npmStart(dataDir);
    const { npm, port, registryPid } = started;

    const first = randomBytes(MiB);
    // Large enough that what was sent of it is written to the upload file (in 4 MiB batches) before the stop.
    const second = randomBytes(16 * MiB);
    const digest = digestOf(Buffer.concat([first, second]));
    const { location, id } = await startChunkedUpload(started.url, 'first/stalled', first);
    // The client sends most of its second chunk, then stops sending (but keeps the connection).
    const stalled = partialRequest(location.href, 'PATCH', second, 12 * MiB, { 'content-range': `${MiB}-${17 * MiB - 1}` });
    const stalledOutcome = stalled.response.then(
      (r) => `answered ${r.status}`,
      (e: Error) => `cut: ${e.message}`,
    );
    await waitUntil(async () => (await stat(join(dataDir, 'uploads', id))).size > MiB, 5_000, 'part of the second chunk on disk');

    const signalled = performance.now();
    process.kill(npm.pid!, 'SIGTERM');
    await waitUntil(() => connectionRefused(port), 1_000, 'port closed to new connections');
    await waitUntil(() => !alive(npm.pid!, true), STOP_DEADLINE_MS, 'process group gone');
    const stopMs = performance.now() - signalled;
    expect(alive(registryPid)).toBe(false);
    expect(await started.exited).toEqual({ code: 0, signal: null });
    // It did wait the grace period for the stalled request, and no longer than the deadline.
    expect(stopMs).toBeGreaterThanOrEqual(STOP_GRACE_MS - 50);
    expect(await stalledOutcome).toMatch(/^cut: /);
    const log = started.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    expect(log.map((e) => e.msg)).toContain('stop: cutting connections still open');
    expect(log.at(-1)?.msg).toBe('stopped');
    console.log(`SIGTERM to npm with a stalled upload: process group gone ${stopMs.toFixed(0)} ms after the signal`);

    // Nothing partial: no blob, and the upload holds exactly its first chunk (the half chunk is gone).
    const hex = digest.slice('sha256:'.length);
    await expect(stat(join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex))).rejects.toMatchObject({ code: 'ENOENT' });
    const next = await startRegistry({ dataDir });
    try {
      expect((await fetch(`${next.url}/v2/first/stalled/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
      const status = await fetch(new URL(`${location.pathname}${location.search}`, next.url));
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe(`0-${MiB - 1}`);
      expect(await readdir(join(dataDir, 'uploads'))).toEqual([id]);
      expect((await stat(join(dataDir, 'uploads', id))).size).toBe(MiB);
      // The client can resume: the rest of the upload completes it, with the right digest.
      const resume = new URL(`${location.pathname}${location.search}`, next.url);
      resume.searchParams.set('digest', digest);
      const put = await fetch(resume, { method: 'PUT', body: second, headers: { 'content-type': 'application/octet-stream', 'content-range': `${MiB}-${17 * MiB - 1}` } });
      expect(put.status).toBe(201);
      const blob = await fetch(`${next.url}/v2/first/stalled/blobs/${digest}`);
      expect(digestOf(Buffer.from(await blob.arrayBuffer()))).toBe(digest);
    } finally {
      await next.stop();
    }
  });

  it('SIGINT to npm alone (not the whole group, unlike Ctrl-C) stops it too', async () => {
    started = await npmStart(await newDataDir());
    const { npm, port, registryPid } = started;
    expect((await fetch(`${started.url}/v2/`)).status).toBe(200);
    process.kill(npm.pid!, 'SIGINT');
    await waitUntil(() => connectionRefused(port), 1_000, 'port closed to new connections');
    await waitUntil(() => !alive(npm.pid!, true), STOP_DEADLINE_MS, 'process group gone');
    expect(alive(registryPid)).toBe(false);
    expect(await started.exited).toEqual({ code: 0, signal: null });
  });

  it('Ctrl-C (SIGINT to the whole process group: npm hands its copy on too) stops it once, cleanly', async () => {
    started = await npmStart(await newDataDir());
    const { npm, registryPid } = started;
    process.kill(-npm.pid!, 'SIGINT');
    await waitUntil(() => !alive(npm.pid!, true), STOP_DEADLINE_MS, 'process group gone');
    expect(alive(registryPid)).toBe(false);
    // npm's own status depends on whether its copy of the signal came before or after node exited
    // (its handler is gone once the script has ended): 0, or killed by SIGINT as a shell expects.
    expect([{ code: 0, signal: null }, { code: null, signal: 'SIGINT' }]).toContainEqual(await started.exited);
    const log = started.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    expect(log.filter((e) => e.msg === 'shutting down')).toHaveLength(1);
    expect(log.at(-1)?.msg).toBe('stopped');
  });
});
