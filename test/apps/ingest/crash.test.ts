// Crash safety in AWS mode (issue 7): the ingest service is SIGKILLed in the middle of a streamed
// PATCH and started again. No partial blob becomes visible, the session is either resumable at the
// offset it last recorded or gone, the client's retry (a fresh upload) succeeds, and an image pushed
// before the crash pulls back intact.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { imageManifest, OCI_MANIFEST, pushBlobPatch, pushBlobPut, putManifest, sha256, countedPerFile, startUpload, type Counted } from '../../support/counted-start-aws.ts';

const MiB = 1024 * 1024;
let reg: Counted;
let base: string;

countedPerFile((r) => {
  reg = r;
  base = r.local.url;
});

async function pullDigests(repo: string, tag: string): Promise<{ manifest: string; blobs: string[] }> {
  const r = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
  expect(r.status).toBe(200);
  const body = Buffer.from(await r.arrayBuffer());
  const m = JSON.parse(body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const blobs: string[] = [];
  for (const d of [m.config, ...m.layers]) {
    const b = await fetch(`${base}/v2/${repo}/blobs/${d.digest}`);
    expect(b.status).toBe(200);
    blobs.push(sha256(Buffer.from(await b.arrayBuffer())));
  }
  return { manifest: sha256(body), blobs };
}

it('SIGKILL of ingest mid-PATCH: no partial blob, retry succeeds, earlier images intact', { timeout: 180_000 }, async () => {
  const ingest = reg.local.ingest!;
  // An image committed before the crash: a layer streamed through ingest, a config through the edge.
  const config = randomBytes(300);
  const layer = randomBytes(20 * MiB);
  await pushBlobPut(base, 'crash/before', config);
  await pushBlobPatch(base, 'crash/before', layer);
  const before = imageManifest(config, [layer]);
  expect((await putManifest(base, 'crash/before', 'v1', before.manifest)).status).toBe(201);

  // The upload that dies: 200 MiB streamed; ingest is killed once 48 MiB have been sent.
  const big = randomBytes(200 * MiB);
  const digest = sha256(big);
  const loc = await startUpload(base, 'crash/during');
  const pid = ingest.pid;
  let sent = 0;
  let killed = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent >= big.length) return c.close();
      if (sent >= 48 * MiB && !killed) {
        killed = true;
        ingest.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 200));
      }
      c.enqueue(big.subarray(sent, sent + MiB));
      sent += MiB;
    },
  });
  const outcome = await fetch(loc, { method: 'PATCH', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit).then(
    async (r) => `status ${r.status}: ${(await r.text()).slice(0, 200)}`,
    (e: unknown) => `error ${String(e)}`,
  );
  expect(killed).toBe(true);
  expect(outcome).not.toMatch(/^status 2/);
  await ingest.restart();
  expect(ingest.pid).not.toBe(pid);

  // No partial blob: not in the repository, not under any repository.
  for (const repo of ['crash/during', 'crash/before']) {
    const h = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    expect(h.status).toBe(404);
  }
  // The session: resumable at an offset it recorded (never past what was sent), or gone.
  const s = await fetch(loc);
  await s.arrayBuffer();
  if (s.status === 204) {
    const range = /^0-(\d+)$/.exec(s.headers.get('range') ?? '');
    expect(range, `Range ${s.headers.get('range')}`).not.toBeNull();
    expect(Number(range![1]) + 1).toBeLessThanOrEqual(sent);
  } else {
    expect(s.status).toBe(404);
  }
  // Finishing the broken session with its digest must not produce the blob either.
  const sealed = await fetch(`${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`, { method: 'PUT' });
  await sealed.arrayBuffer();
  expect(sealed.status).toBeGreaterThanOrEqual(400);
  expect((await fetch(`${base}/v2/crash/during/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);

  // The client's retry: a fresh upload of the same bytes through the restarted ingest.
  expect(await pushBlobPatch(base, 'crash/during', big)).toBe(digest);
  const h = await fetch(`${base}/v2/crash/during/blobs/${digest}`, { method: 'HEAD' });
  expect(h.status).toBe(200);
  expect(h.headers.get('content-length')).toBe(String(big.length));
  const after = imageManifest(config, [big]);
  await pushBlobPut(base, 'crash/during', config);
  expect((await putManifest(base, 'crash/during', 'v1', after.manifest)).status).toBe(201);
  expect(await pullDigests('crash/during', 'v1')).toEqual({ manifest: after.digest, blobs: [sha256(config), digest] });

  // The image committed before the crash is intact.
  expect(await pullDigests('crash/before', 'v1')).toEqual({ manifest: before.digest, blobs: [sha256(config), sha256(layer)] });
});
