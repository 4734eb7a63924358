// A 1 GiB layer through start:aws (issue 7), once per suite run: pushed by ctr (one PUT, which the
// edge sends straight to S3) and by docker 28 (one streamed PATCH, through the ingest service),
// pulled back identical, with the ingest service's peak RSS (VmHWM) below 256 MB. Slow by nature
// (a few minutes: docker gzips the layer on push and unpacks it on pull); each phase's time is
// printed.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { startContainerd, startDockerd, startOrSkip, toolGate } from '../../support/clients.ts';
import { makeOciImage, toDockerArchive, toOciArchive } from '../../support/images.ts';
import { tempDir } from '../../e2e/helpers.ts';
import { OCI_MANIFEST, sha256, startCounted } from '../../support/counted-start-aws.ts';

const gate = toolGate(['containerd', 'ctr', 'dockerd', 'docker', 'skopeo']);
const GiB = 1024 * 1024 * 1024;
const RSS_LIMIT = 256 * 1000 * 1000;

/** Peak resident set size of a process, in bytes (VmHWM). */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

interface Inspect {
  Id: string;
  RootFS: { Layers: string[] };
}

test('1 GiB layer: ctr (edge PUT to S3) and docker (one PATCH through ingest) push and pull it back identical; ingest peak RSS < 256 MB', { timeout: 900_000 }, async (t) => {
  gate.check(t);
  const started = Date.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      phases[name] = (Date.now() - t0) / 1000;
      console.log(`large layer: ${name} ${phases[name]!.toFixed(1)} s`);
    }
  };
  const reg = await startCounted();
  t.onTestFinished(() => reg.close());
  const host = new URL(reg.local.url).host;
  const stats = reg.local.frontDoor.stats;
  const ingestPid = reg.local.ingest!.pid;
  const work = await tempDir(t, 'large');
  const img = await phase('write image', () => makeOciImage(join(work, 'layout'), { layerSizes: [GiB] }));
  const layer = img.layers[0]!;

  // ---- ctr: one PUT per blob, edge -> S3 ----
  const ctrd = await startOrSkip(t, () => startContainerd({ namespace: 'large' }));
  if (!ctrd) return;
  t.onTestFinished(() => ctrd.stop());
  const ociArchive = await toOciArchive(img, join(work, 'image.oci.tar'), 'v1');
  const ctrRef = `${host}/large/ctr:v1`;
  await phase('ctr import', () => ctrd.ctr(['images', 'import', '--no-unpack', '--base-name', `${host}/large/ctr`, ociArchive], { timeoutMs: 300_000 }));
  await rm(ociArchive);
  let before = { ...stats.bytes };
  await phase('ctr push', () => ctrd.ctr(['images', 'push', '--plain-http', ctrRef], { timeoutMs: 300_000 }));
  expect(stats.bytes.api - before.api, 'bytes through the API handler (ctr)').toBeLessThan(64 * 1024);
  expect(stats.bytes.ingest - before.ingest, 'bytes through ingest (ctr)').toBe(0);
  expect(stats.bytes.s3 - before.s3).toBeGreaterThanOrEqual(GiB);
  const head = await fetch(`${reg.local.url}/v2/large/ctr/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
  expect(head.headers.get('docker-content-digest')).toBe(img.manifestDigest);
  expect((await fetch(`${reg.local.url}/v2/large/ctr/blobs/${layer.digest}`, { method: 'HEAD' })).headers.get('content-length')).toBe(String(layer.size));
  await ctrd.ctr(['images', 'rm', '--sync', ctrRef]);
  const left = (await ctrd.ctr(['content', 'ls', '-q'])).text;
  expect(left).not.toContain(layer.digest);
  // containerd checks every blob's digest as it writes it.
  await phase('ctr pull (content fetch)', () => ctrd.ctr(['content', 'fetch', '--plain-http', ctrRef], { timeoutMs: 300_000 }));
  expect((await ctrd.ctr(['content', 'ls', '-q'])).text).toContain(layer.digest);
  await ctrd.stop();

  // ---- docker 28: POST -> one chunked PATCH with the whole (re-gzipped) layer -> PUT ----
  const dockerd = await startOrSkip(t, () => startDockerd());
  if (!dockerd) return;
  t.onTestFinished(() => dockerd.stop());
  const { docker } = dockerd;
  const dockerArchive = await toDockerArchive(img, join(work, 'image.docker.tar'), 'large/load:v1');
  await rm(img.layoutDir, { recursive: true, force: true });
  await phase('docker load', () => docker(['load', '-i', dockerArchive], { timeoutMs: 300_000 }));
  await rm(dockerArchive);
  const dockerRef = `${host}/large/docker:v1`;
  await docker(['tag', 'large/load:v1', dockerRef]);
  before = { ...stats.bytes };
  const push = await phase('docker push', () => docker(['push', dockerRef], { timeoutMs: 400_000 }));
  const pushed = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push.text)?.[1];
  expect(pushed, push.text).toBeDefined();
  expect(stats.bytes.api - before.api, 'bytes through the API handler (docker)').toBeLessThan(64 * 1024);
  expect(stats.bytes.ingest - before.ingest, 'bytes through ingest (docker)').toBeGreaterThan(GiB * 0.99);
  const manifest = await fetch(`${reg.local.url}/v2/large/docker/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  const body = Buffer.from(await manifest.arrayBuffer());
  expect(sha256(body)).toBe(pushed);
  await docker(['rmi', dockerRef, 'large/load:v1']);
  await phase('docker pull', () => docker(['pull', dockerRef], { timeoutMs: 400_000 }));
  const pulled = (JSON.parse((await docker(['image', 'inspect', dockerRef])).text) as Inspect[])[0]!;
  expect(pulled.Id).toBe(img.configDigest);
  expect(pulled.RootFS.Layers).toEqual([layer.diffId]);

  const rss = await peakRss(ingestPid);
  console.log(`large layer: ingest peak RSS ${(rss / 1e6).toFixed(1)} MB; total ${((Date.now() - started) / 1000).toFixed(1)} s; phases ${JSON.stringify(phases)}`);
  expect(reg.local.ingest!.pid).toBe(ingestPid);
  expect(rss).toBeLessThan(RSS_LIMIT);
});
