// The local server's own promises: graceful shutdown lets a request in flight finish, one JSON log
// line per request that never carries the signed query string, and bad configuration refused.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainScript, startRegistry } from '../../support/registry.ts';
import { uploadIdOf, waitForUploadLease, waitUntilRefused } from '../../support/in-flight.ts';

interface Entry { msg?: string; method?: string; path?: string; status?: number; ms?: number; level?: string }

const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A PUT whose body is sent in two halves with a pause between, so the test can act mid-request. */
function slowPut(url: string, body: Buffer, betweenHalves: () => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': body.length, 'content-type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(body.subarray(0, body.length / 2));
    betweenHalves().then(() => req.end(body.subarray(body.length / 2)), reject);
  });
}

describe('local server lifecycle', () => {
  it('SIGTERM lets an upload in flight finish, then exits 0 and refuses new connections', async () => {
    const reg = await startRegistry();
    try {
      const post = await fetch(`${reg.url}/v2/life/cycle/blobs/uploads/`, { method: 'POST' });
      assert.equal(post.status, 202);
      const body = randomBytes(4 * 1024 * 1024);
      const digest = digestOf(body);
      const location = new URL(post.headers.get('location') ?? '', reg.url);
      location.searchParams.set('digest', digest);
      const exited = new Promise<number | null>((resolve) => reg.child.once('exit', (code) => resolve(code)));
      const status = await slowPut(location.href, body, async () => {
        // The PUT is in flight once its handler holds the upload's lease.
        await waitForUploadLease(reg.dataDir, uploadIdOf(location));
        reg.child.kill('SIGTERM');
        // While draining, the listener is closed: a new connection is refused (once the signal is handled).
        await waitUntilRefused(reg.port, 5000);
        await assert.rejects(fetch(`${reg.url}/v2/`), 'a new connection during shutdown must be refused');
      });
      assert.equal(status, 201, 'the upload in flight completes during graceful shutdown');
      assert.equal(await exited, 0);
      assert.ok(reg.logs.some((l) => (JSON.parse(l) as Entry).msg === 'shutting down'));
    } finally {
      await reg.stop();
    }
  });

  it('writes one JSON log line per request, without query strings (they carry signed tokens)', async () => {
    const reg = await startRegistry();
    try {
      const post = await fetch(`${reg.url}/v2/log/check/blobs/uploads/`, { method: 'POST' });
      const location = post.headers.get('location') ?? '';
      assert.match(location, /_state=/);
      const status = await fetch(new URL(location, reg.url));
      assert.equal(status.status, 204);
      const missing = await fetch(`${reg.url}/v2/log/check/manifests/nope`);
      assert.equal(missing.status, 404);
      // The line of a request is written once its answer is sent: wait for the third one to arrive.
      const requestLines = () => reg.logs.map((l) => JSON.parse(l) as Entry).filter((e) => e.msg === 'request');
      const deadline = performance.now() + 10_000;
      while (requestLines().length < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const requests = requestLines();
      assert.deepEqual(
        requests.map((e) => [e.method, e.status]),
        [['POST', 202], ['GET', 204], ['GET', 404]],
      );
      for (const e of requests) {
        assert.equal(typeof e.ms, 'number');
        assert.ok(e.path?.startsWith('/v2/log/check/'), e.path);
        assert.ok(!e.path?.includes('?'), `query string logged: ${e.path}`);
      }
      assert.ok(!reg.logs.some((l) => l.includes('_state=')), 'an upload token reached the log');
      assert.match(reg.logs.find((l) => l.includes('"status":404')) ?? '', /"error":"MANIFEST_UNKNOWN"/);
    } finally {
      await reg.stop();
    }
  });

  it('REGISTRY_UPLOAD_TTL_SECONDS: a PATCH keeps the session alive through its fresh Location; an expired token is refused; idle, it is 404', async () => {
    // TTL 4 s. Times are taken from when each request was sent or answered, not from the test's start,
    // so a slow request on a busy machine moves the checks with it. A token's expiry is in whole
    // seconds (it stops verifying within TTL + 1 s of the POST); a session's in milliseconds.
    const reg = await startRegistry({ env: { REGISTRY_UPLOAD_TTL_SECONDS: '4' } });
    const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - performance.now())));
    const codeOf = async (r: Response) => ((await r.json()) as { errors: { code: string }[] }).errors[0]?.code;
    try {
      const post = await fetch(`${reg.url}/v2/life/ttl/blobs/uploads/`, { method: 'POST' });
      const postAnswered = performance.now();
      assert.equal(post.status, 202);
      const first = new URL(post.headers.get('location') ?? '', reg.url).href;
      await sleepUntil(postAnswered + 2500);
      const patchSent = performance.now();
      const patch = await fetch(first, { method: 'PATCH', body: 'abc', headers: { 'content-type': 'application/octet-stream' } });
      const patchAnswered = performance.now();
      assert.equal(patch.status, 202);
      const second = new URL(patch.headers.get('location') ?? '', reg.url).href;
      // 5.2 s after the POST its token has expired; the PATCH moved the session's expiry to at least
      // 4 s after it was sent. Both looked at in the same moment.
      await sleepUntil(postAnswered + 5200);
      assert.ok(performance.now() < patchSent + 4000, `the test itself was too slow: ${Math.round(performance.now() - patchSent)} ms after the PATCH was sent`);
      const [expired, alive] = await Promise.all([fetch(first), fetch(second)]);
      assert.equal(expired.status, 404, 'the POST\'s token is past its expiry');
      assert.equal(await codeOf(expired), 'BLOB_UPLOAD_UNKNOWN');
      assert.equal(alive.status, 204, 'the PATCH\'s Location addresses the live session');
      assert.equal(alive.headers.get('range'), '0-2');
      await sleepUntil(patchAnswered + 4800);
      const gone = await fetch(second);
      assert.equal(gone.status, 404);
      assert.equal(await codeOf(gone), 'BLOB_UPLOAD_UNKNOWN');
    } finally {
      await reg.stop();
    }
  });

  // Seven registry starts one after another: a budget for a busy machine, not a bound on their speed.
  it('refuses malformed or out-of-range settings with a clear message instead of starting', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-config-'));
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: 'http' }, /PORT must be an integer from 0 to 65535, got "http"/],
      [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535/],
      [{ REGISTRY_UPLOAD_TTL_SECONDS: '0' }, /REGISTRY_UPLOAD_TTL_SECONDS must be an integer from 1 to/],
      // Above 2^31-1 ms a Node timer fires after 1 ms: a huge interval would sweep constantly.
      [{ REGISTRY_SWEEP_INTERVAL_SECONDS: '3000000' }, /REGISTRY_SWEEP_INTERVAL_SECONDS must be an integer from 1 to 2147483/],
      [{ REGISTRY_SWEEP_INTERVAL_SECONDS: '0' }, /REGISTRY_SWEEP_INTERVAL_SECONDS must be an integer from 1/],
      [{ REGISTRY_IDLE_TIMEOUT_SECONDS: '-1' }, /REGISTRY_IDLE_TIMEOUT_SECONDS must be an integer from 0 to 2147483/],
      [{ REGISTRY_IDLE_TIMEOUT_SECONDS: '1e3' }, /REGISTRY_IDLE_TIMEOUT_SECONDS must be an integer/],
    ];
    try {
      for (const [env, message] of cases) {
        const child = spawn(process.execPath, [mainScript], { env: { ...process.env, PORT: '0', REGISTRY_DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
        assert.notEqual(code, 0, JSON.stringify(env));
        assert.match(stderr, message);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
