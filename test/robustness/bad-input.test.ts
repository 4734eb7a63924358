// Robustness: thousands of generated bad requests against one running local registry. Asserts no 5xx,
// no resets or hangs, OCI JSON error bodies, the lead's status/code decisions for clear-cut inputs,
// that rejected requests leave no state behind, and that the process is still alive at the end.
// Also raw-socket garbage (non-HTTP bytes, a TLS ClientHello, truncated and short-bodied requests).
//
// Reproduce a run with ROBUST_SEED=<seed> (printed at start); run one case with ROBUST_CASE=<n>.
// The cases live in bad-input/ (one module per kind of input, registered in cases.ts); this file
// holds the run and the assertions over what the runner recorded.
import { describe, beforeAll, afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { describeResult, headerValue, locationPath, send, sha256 } from './lib.ts';
import { OCI_MANIFEST } from './oci.ts';
import { buildVariants } from './bad-input/cases.ts';
import { MF, MIN_REQUESTS, ONLY_CASE, REPO } from './bad-input/config.ts';
import { acceptedBadTags, setup, type Ctx } from './bad-input/fixtures.ts';
import { cutShortFailures } from './bad-input/raw-cut-short.ts';
import { garbageFailures } from './bad-input/raw-garbage.ts';
import { captureClientHello, raw, statusLines, tlsHandshakeOutcome } from './bad-input/raw-socket.ts';
import { report, runCases, Stats } from './bad-input/runner.ts';

describe('bad input against one running registry', { timeout: 120_000 }, () => {
  let reg: RunningRegistry;
  let base: URL;
  let ctx: Ctx;
  let stderr = '';
  const stats = new Stats();

  beforeAll(async () => {
    reg = await startRegistry();
    reg.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    base = new URL(reg.url);
    ctx = await setup(base);
  });

  afterAll(async () => {
    if (stderr.trim()) console.log(`registry stderr:\n${stderr.slice(0, 5000)}`);
    await reg?.stop();
  });

  // The generated requests run once, started by whichever test needs them first, so that every check
  // below judges requests it made sure were sent, also when it runs alone (`-t "no 5xx"`).
  let running: Promise<void> | undefined;
  /** What the generated requests recorded: every check below runs on it, even when run alone. */
  const generated = async (): Promise<Stats> => {
    await (running ??= runCases(stats, base, buildVariants(ctx)));
    assert.ok(stats.requests > 0, 'no generated request was sent');
    return stats;
  };

  test('thousands of generated bad HTTP requests', { timeout: 90_000 }, async () => {
    await generated();
    if (ONLY_CASE === undefined) assert.ok(stats.requests >= MIN_REQUESTS, `only ${stats.requests} requests were sent in the budget (need ${MIN_REQUESTS})`);
  });

  test('no 5xx responses', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k === '5xx response');
    assert.equal(f.length, 0, report(stats, f));
  });

  test('no connection resets, hangs or client-side test bugs', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k.startsWith('connection error') || k.startsWith('hang') || k.startsWith('test bug'));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every non-HEAD error response carries an OCI JSON error body', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k.startsWith('error response') || k === 'unknown OCI error code');
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every response carries Docker-Distribution-API-Version', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k.startsWith('missing Docker-Distribution-API-Version'));
    assert.equal(f.length, 0, report(stats, f, 10));
  });

  test('statuses and codes follow the contract (bad-input/contract.ts)', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k.startsWith('status differs') || k.startsWith('error code differs') || k.startsWith('405') || k.startsWith('tampered') || k.startsWith('416') || k.includes('Link') || k.startsWith('list page') || k.startsWith('n=0') || k.startsWith('manifest with subject') || k.startsWith('PUT 201') || k.startsWith('PATCH reply') || k.startsWith('success response') || k.startsWith('upload Location'));
    assert.equal(f.length, 0, report(stats, f, 25));
  });

  test('rejected requests leave no state behind and content stays intact', async () => {
    const stats = await generated();
    const f = stats.byKind((k) => k.startsWith('rejected') || k.includes('corrupted') || k.includes('wrong bytes') || k.includes('different bytes') || k.includes('byte-exact') || k.includes('wrong size') || k.includes('206'));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every failure kind is covered by an assertion above', async () => {
    const stats = await generated();
    const known = /^(5xx|connection error|hang|test bug|error response|unknown OCI|missing Docker|status differs|error code differs|405|tampered|416|malformed Link|list page|n=0|manifest with subject|PUT 201|PATCH reply|success response|upload Location|rejected|blob content corrupted|signed URL|manifest GET returned|manifest not stored|blob HEAD has the wrong size)/;
    const f = stats.failures.filter((x) => !known.test(x.kind));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('raw socket: TLS ClientHello on the plain-HTTP port is answered or closed within 1 s', async () => {
    const hello = await captureClientHello();
    assert.equal(hello[0], 0x16, 'captured bytes are a TLS handshake record');
    for (let i = 0; i < 5; i++) {
      const r = await raw(reg.port, [hello], 'keep', 3000);
      const ms = Math.min(r.firstByteMs ?? Infinity, r.closeMs ?? Infinity);
      assert.ok(ms <= 1000, `ClientHello #${i}: no answer and no close within 1 s (first byte ${r.firstByteMs} ms, close ${r.closeMs} ms)`);
      for (const s of statusLines(r.data)) assert.ok(s < 500, `ClientHello answered with ${s}`);
    }
    // And through a real TLS client, as Go's and containers/image's probes do.
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const outcome = await tlsHandshakeOutcome(reg.port);
      const ms = performance.now() - started;
      assert.ok(outcome !== 'timeout' && ms <= 1000, `TLS probe #${i}: ${outcome} after ${Math.round(ms)} ms`);
    }
  });

  test('raw socket: garbage bytes are answered (< 500) or closed, never crash the server', async () => {
    assert.deepEqual(await garbageFailures(reg, ctx), []);
  });

  test('raw socket: requests whose body ends early leave no state behind', async () => {
    const post = await send(base, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/` });
    assert.equal(post.status, 202);
    const loc = locationPath(base, headerValue(post, 'location'));
    assert.deepEqual(await cutShortFailures(base, reg.port, ctx, loc), []);
  });

  test('raw socket: 64 stalled connections do not block other clients', async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 64; i++) {
        const s = net.connect({ host: '127.0.0.1', port: reg.port });
        s.on('error', () => undefined);
        s.write(i % 2 ? 'GET /v2/ HTTP/1.1\r\nHost: x\r\n' : `PATCH /v2/${REPO}/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc`);
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 20; i++) {
        const res = await send(base, { method: 'GET', path: '/v2/' }, { timeoutMs: 2000 });
        assert.equal(res.status, 200);
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  test('no tag from a rejected manifest PUT is listed', async () => {
    await generated();
    const res = await send(base, { method: 'GET', path: `/v2/${MF}/tags/list?n=1000` });
    assert.equal(res.status, 200, describeResult(res));
    const tags = (JSON.parse(res.body.toString()) as { tags: string[] }).tags;
    const bad = tags.filter((t) => t.startsWith('bad-') && !acceptedBadTags.has(t));
    assert.deepEqual(bad, [], `tags of rejected or cut-short manifest PUTs are listed: ${bad.slice(0, 20).join(', ')}`);
    assert.ok(tags.includes('good'));
  });

  test('the server is still alive and serving the original content', async () => {
    await generated();
    assert.equal(reg.child.exitCode, null, 'registry process exited');
    assert.equal(reg.child.signalCode, null, 'registry process was killed');
    const v2 = await send(base, { method: 'GET', path: '/v2/' });
    assert.equal(v2.status, 200);
    assert.deepEqual(JSON.parse(v2.body.toString()), {});
    const mres = await send(base, { method: 'GET', path: `/v2/${REPO}/manifests/good`, headers: { accept: OCI_MANIFEST } });
    assert.equal(mres.status, 200);
    assert.ok(mres.body.equals(ctx.manifest.bytes), 'manifest bytes changed');
    const redirect = await send(base, { method: 'GET', path: `/v2/${REPO}/blobs/${ctx.layer.digest}` });
    assert.equal(redirect.status, 307);
    const blob = await send(base, { method: 'GET', path: locationPath(base, headerValue(redirect, 'location')) });
    assert.equal(sha256(blob.body), ctx.layer.digest);
  });
});
