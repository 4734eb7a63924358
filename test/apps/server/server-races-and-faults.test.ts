// The local server under races and faults: a finalizing PUT while another request still writes to the
// same upload, duplicate finalizing PUTs, a stalled reader, the sweeper meeting an upload in use, and
// two instances creating the signing secret at the same moment.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainScript, startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { uploadIdOf, waitForUploadLease } from '../../support/in-flight.ts';

const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startSession(reg: RunningRegistry, repo: string): Promise<URL> {
  const r = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(r.status, 202);
  return new URL(r.headers.get('location') ?? '', reg.url);
}

function withDigest(location: URL, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.href;
}

/** A request whose headers go out now and whose body is sent when `send` is called. */
function heldRequest(url: string, method: string, body: Buffer, headers: Record<string, string> = {}) {
  let resolveStatus: (s: number) => void = () => undefined;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const req = http.request(url, { method, headers: { 'content-length': body.length, 'content-type': 'application/octet-stream', ...headers } }, (res) => {
    res.resume();
    res.on('end', () => resolveStatus(res.statusCode ?? 0));
  });
  req.on('error', () => resolveStatus(-1));
  req.flushHeaders();
  return { status, send: () => req.end(body) };
}

async function blobBytes(reg: RunningRegistry, repo: string, digest: string): Promise<Buffer> {
  const r = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`);
  assert.equal(r.status, 200, 'the redirect to the signed blob path is followed');
  return Buffer.from(await r.arrayBuffer());
}

/** Pushes `data` as a blob of `repo`; returns the signed path its blob GET redirects to. */
async function pushAndSign(reg: RunningRegistry, repo: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const loc = await startSession(reg, repo);
  assert.equal((await fetch(withDigest(loc, digest), { method: 'PUT', body: data })).status, 201);
  const redirect = await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { redirect: 'manual' });
  assert.equal(redirect.status, 307);
  return redirect.headers.get('location') ?? '';
}

/**
 * A registry with REGISTRY_IDLE_TIMEOUT_SECONDS=1 serving `data` as a blob of `repo`, and the blob's
 * signed path. The blob is pushed first through a registry on the same data dir without that setting:
 * on a busy machine a 1 s idle timeout can cut the 32 MiB upload itself.
 */
async function idleRegistryWith(repo: string, data: Buffer): Promise<{ reg: RunningRegistry; blobUrl: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'registry-idle-'));
  const pusher = await startRegistry({ dataDir });
  let blobUrl: string;
  try {
    blobUrl = await pushAndSign(pusher, repo, data);
  } finally {
    await pusher.stop();
  }
  const reg = await startRegistry({ dataDir, env: { REGISTRY_IDLE_TIMEOUT_SECONDS: '1' } });
  return {
    reg,
    blobUrl,
    stop: async () => {
      await reg.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe('local server: races and faults', { timeout: 120_000 }, () => {
  it('a finalizing PUT while another PATCH is still writing is refused (416): nobody can append to a verified blob', async () => {
    const reg = await startRegistry();
    try {
      const real = Buffer.from('the real layer content\n');
      const digest = digestOf(real);
      const loc = await startSession(reg, 'race/attacker');
      const first = await fetch(loc, { method: 'PATCH', body: real, headers: { 'content-range': `0-${real.length - 1}` } });
      assert.equal(first.status, 202);
      const next = new URL(first.headers.get('location') ?? '', reg.url);
      const held = heldRequest(next.href, 'PATCH', Buffer.from('EVIL APPENDED BYTES'));
      // The PATCH's handler holds the upload's lease once it has begun: only then is the PUT a race.
      await waitForUploadLease(reg.dataDir, uploadIdOf(next));
      const put = await fetch(withDigest(next, digest), { method: 'PUT' });
      assert.equal(put.status, 416, 'the PUT must wait for the PATCH in flight');
      held.send();
      assert.equal(await held.status, 202);
      assert.equal((await fetch(`${reg.url}/v2/race/attacker/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      // Another repository pushes the same content: it reads back exactly those bytes.
      const victim = await startSession(reg, 'race/victim');
      assert.equal((await fetch(withDigest(victim, digest), { method: 'PUT', body: real })).status, 201);
      assert.deepEqual(await blobBytes(reg, 'race/victim', digest), real);
    } finally {
      await reg.stop();
    }
  });

  it('two identical finalizing PUTs on one session (a retry) never give a 5xx, and the blob is intact', async () => {
    const reg = await startRegistry();
    try {
      const statuses = new Map<number, number>();
      for (let i = 0; i < 12; i++) {
        const data = randomBytes(2 * 1024 * 1024);
        const digest = digestOf(data);
        const loc = await startSession(reg, 'race/retry');
        const replies = await Promise.all([0, 1].map(() => fetch(withDigest(loc, digest), { method: 'PUT', body: data })));
        for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(replies.some((r) => r.status === 201), `one of the two completes: ${replies.map((r) => r.status).join(', ')}`);
        assert.equal(digestOf(await blobBytes(reg, 'race/retry', digest)), digest);
      }
      for (const s of statuses.keys()) assert.ok([201, 404, 416].includes(s), `statuses seen: ${JSON.stringify([...statuses])}`);
    } finally {
      await reg.stop();
    }
  });

  it('REGISTRY_IDLE_TIMEOUT_SECONDS: a reader that stops reading is cut off, and the server serves on', { timeout: 30_000 }, async () => {
    const data = randomBytes(32 * 1024 * 1024);
    const { reg, blobUrl, stop } = await idleRegistryWith('idle/reader', data);
    try {
      // Read nothing for 3 s (the server's socket sits idle: its buffers are full), then read on: the
      // connection must have been cut, so the body ends short of the blob.
      const { received, complete } = await new Promise<{ received: number; complete: boolean }>((resolve, reject) => {
        const req = http.get(new URL(blobUrl, reg.url), (res) => {
          let received = 0;
          res.pause();
          res.on('data', (d: Buffer) => (received += d.length));
          res.on('error', () => undefined);
          res.once('close', () => resolve({ received, complete: res.complete }));
          setTimeout(() => res.resume(), 3000);
        });
        req.on('error', reject);
      });
      assert.equal(complete, false, 'the response was cut off');
      assert.ok(received < data.length, `received ${received} of ${data.length} bytes`);
      const line = reg.logs.map((l) => JSON.parse(l) as { path?: string; ms?: number }).find((e) => e.path?.startsWith('/_blobs/'));
      assert.ok(line?.ms !== undefined && line.ms < 3000, `the server let go of the reader after ${line?.ms} ms`);
      assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
    } finally {
      await stop();
    }
  });

  it('REGISTRY_IDLE_TIMEOUT_SECONDS: a stalled reader is cut off even when a pipelined request follows its GET', { timeout: 30_000 }, async () => {
    const { reg, blobUrl, stop } = await idleRegistryWith('idle/pipelined', randomBytes(32 * 1024 * 1024));
    try {
      const socket = connect(reg.port, '127.0.0.1');
      socket.pause(); // never read
      socket.on('error', () => undefined);
      socket.write(`GET ${blobUrl} HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n`);
      const deadline = performance.now() + 8000;
      const blobLine = () => reg.logs.map((l) => JSON.parse(l) as { path?: string; ms?: number }).find((e) => e.path?.startsWith('/_blobs/'));
      while (!blobLine() && performance.now() < deadline) await sleep(100);
      socket.destroy();
      const line = blobLine();
      assert.ok(line?.ms !== undefined && line.ms < 6000, `the server let go of the stalled reader after ${line?.ms} ms`);
    } finally {
      await stop();
    }
  });

  it('the sweeper leaves alone an upload whose session expired while a PATCH is still streaming into it', async () => {
    const reg = await startRegistry({ env: { REGISTRY_UPLOAD_TTL_SECONDS: '1', REGISTRY_SWEEP_INTERVAL_SECONDS: '1' } });
    try {
      const loc = await startSession(reg, 'sweep/busy');
      const total = 8 * 1024;
      const status = new Promise<{ status: number; location: string }>((resolve, reject) => {
        const req = http.request(loc, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) }));
        });
        req.on('error', reject);
        let sent = 0;
        const tick = setInterval(() => {
          req.write(randomBytes(1024));
          sent += 1024;
          if (sent >= total) {
            clearInterval(tick);
            req.end();
          }
        }, 400);
      });
      const patched = await status;
      assert.equal(patched.status, 202, 'a PATCH lasting longer than the TTL, across sweeps');
      // The POST's token expired with the TTL; the PATCH's fresh Location addresses the session.
      const after = await fetch(new URL(patched.location, loc));
      assert.equal(after.status, 204);
      assert.equal(after.headers.get('range'), `0-${total - 1}`);
    } finally {
      await reg.stop();
    }
  });

  it('a session whose upload file a kill took away (moved into blobs/ before the session ended) is dropped at start-up', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-unbacked-'));
    try {
      let reg = await startRegistry({ dataDir });
      const kept = await startSession(reg, 'sweep/unbacked');
      const lost = await startSession(reg, 'sweep/unbacked');
      await reg.stop();
      // What SIGKILL between the finishing PUT's rename and the session's end leaves: a session, no file.
      await rm(join(dataDir, 'uploads', uploadIdOf(lost)));
      reg = await startRegistry({ dataDir });
      // The same sessions on the new port.
      const moved = (u: URL) => new URL(`${u.pathname}${u.search}`, reg.url);
      try {
        const gone = await fetch(moved(lost));
        assert.equal(gone.status, 404, 'the session without its file is gone: the client starts the blob again');
        assert.equal(((await gone.json()) as { errors: { code: string }[] }).errors[0]?.code, 'BLOB_UPLOAD_UNKNOWN');
        assert.equal((await fetch(moved(kept))).status, 204, 'a session with its file survives the restart');
        const data = randomBytes(1000);
        assert.equal((await fetch(withDigest(moved(kept), digestOf(data)), { method: 'PUT', body: data })).status, 201);
      } finally {
        await reg.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('two instances starting at once on a fresh data dir both start and agree on one signing secret', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-secret-'));
    try {
      const started = await Promise.allSettled([startRegistry({ dataDir }), startRegistry({ dataDir })]);
      try {
        const [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : assert.fail(`an instance failed to start: ${String(s.reason)}`)));
        assert.ok(a && b);
        const secret = await readFile(join(dataDir, 'secret'), 'utf8');
        assert.match(secret, /^[0-9a-f]{64}$/);
        // A Location signed by one instance is authentic to the other.
        const loc = await startSession(a, 'secret/shared');
        assert.equal((await fetch(new URL(`${loc.pathname}${loc.search}`, b.url))).status, 204);
      } finally {
        for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('an empty secret file (left by an older crash) is refused with a message that says what to do', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-secret-'));
    try {
      await writeFile(join(dataDir, 'secret'), '');
      const child = spawn(process.execPath, [mainScript], { env: { ...process.env, PORT: '0', REGISTRY_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.notEqual(code, 0);
      assert.match(stderr, /holds no valid secret.*delete it/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
