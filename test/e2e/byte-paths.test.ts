// start:aws only: which origin carried the blob bytes, counted by the front door (GET /_local/stats,
// docs/edge.md). ctr's monolithic PUTs go from the edge straight to S3 (zero blob bytes through the
// API and ingest), with ingest on and with REGISTRY_INGEST=off (then with 50 MB layers, and a whole
// layer in one PATCH is refused with an OCI error, not left hanging); skopeo, podman and docker,
// which PATCH, go through ingest.
import { describe, test, type TestContext } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createPodman, createSkopeo, startContainerd, startDockerd, startOrSkip, toolGate } from '../support/clients.ts';
import { makeOciImage, toDockerArchive, toOciArchive, type TestImage } from '../support/images.ts';
import { onlyOnBackend, startRegistry, type RunningRegistry } from '../support/registry.ts';
import { fetchBlob, getManifest, headManifest, tempDir } from './helpers.ts';

const KiB = 1024;
const MiB = 1024 * 1024;

interface Stats {
  bytes: { api: number; ingest: number; s3: number };
  requests: { api: number; ingest: number; s3: number; 'edge-refused': number };
}

async function stats(reg: RunningRegistry): Promise<Stats> {
  const r = await fetch(`${reg.url}/_local/stats`);
  assert.equal(r.status, 200, 'GET /_local/stats');
  return (await r.json()) as Stats;
}

function delta(before: Stats, after: Stats): Stats {
  const sub = <T extends Record<string, number>>(a: T, b: T): T => Object.fromEntries(Object.keys(a).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)])) as T;
  return { bytes: sub(before.bytes, after.bytes), requests: sub(before.requests, after.requests) };
}

async function start(t: TestContext, env: Record<string, string> = {}): Promise<RunningRegistry> {
  const reg = await startRegistry({ env });
  t.onTestFinished(() => reg.stop());
  return reg;
}

/** Bytes of the blobs an image's manifest names (config and layers), as the registry serves it. */
async function blobBytes(reg: RunningRegistry, repo: string, ref: string): Promise<{ manifestBytes: number; blobs: number; count: number }> {
  const got = await getManifest({ kind: 'local', url: reg.url, host: reg.host, logs: () => reg.logs, stop: () => reg.stop() }, repo, ref);
  assert.equal(got.status, 200, `GET manifest ${repo}:${ref}`);
  const m = JSON.parse(got.body.toString()) as { config: { size: number }; layers: { size: number }[] };
  return { manifestBytes: got.body.length, blobs: m.config.size + m.layers.reduce((n, l) => n + l.size, 0), count: 1 + m.layers.length };
}

/** ctr push, rm, pull of `img` through `reg`; returns the stats delta of the push alone. */
async function ctrRoundTrip(t: TestContext, reg: RunningRegistry, img: TestImage, repo: string): Promise<Stats | undefined> {
  const work = await tempDir(t, 'bytes-ctr');
  const ctrd = await startOrSkip(t, () => startContainerd({ namespace: 'bytes' }));
  if (!ctrd) return undefined;
  t.onTestFinished(() => ctrd.stop());
  const archive = await toOciArchive(img, join(work, 'image.oci.tar'), 'v1');
  const ref = `${reg.host}/${repo}:v1`;
  await ctrd.ctr(['images', 'import', '--no-unpack', '--base-name', `${reg.host}/${repo}`, archive]);
  const before = await stats(reg);
  await ctrd.ctr(['images', 'push', '--plain-http', ref], { timeoutMs: 120_000 });
  const pushed = delta(before, await stats(reg));
  const target = { kind: 'local' as const, url: reg.url, host: reg.host, logs: () => reg.logs, stop: () => reg.stop() };
  const head = await headManifest(target, repo, 'v1');
  assert.equal(head.digest, img.manifestDigest, 'manifest digest after ctr push');
  await ctrd.ctr(['images', 'rm', '--sync', ref]);
  await ctrd.ctr(['images', 'pull', '--plain-http', ref], { timeoutMs: 120_000 });
  const check = (await ctrd.ctr(['images', 'check'])).text;
  const total = img.layers.length + 1;
  assert.match(check.split('\n').find((l) => l.startsWith(`${ref} `)) ?? '', new RegExp(`complete \\(${total}/${total}\\)`), `ctr images check:\n${check}`);
  for (const layer of img.layers) {
    const blob = await fetchBlob(target, repo, layer.digest);
    assert.equal(blob.digest, layer.digest, `layer ${layer.digest} served back`);
  }
  return pushed;
}

describe('blob bytes per origin under start:aws', () => {
  onlyOnBackend('aws', 'bytes per origin (edge/S3, ingest, API) exist only under start:aws');
  test('ctr (one PUT per blob, in parallel): every blob byte goes edge -> S3, none through the API or ingest', { timeout: 120_000 }, async (t) => {
    toolGate(['containerd', 'ctr', 'skopeo']).check(t);
    const reg = await start(t);
    const work = await tempDir(t, 'bytes');
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [3 * MiB, 6 * MiB, 512 * KiB], gzip: true });
    const pushed = await ctrRoundTrip(t, reg, img, 'bytes/ctr');
    if (!pushed) return;
    const { manifestBytes, blobs, count } = await blobBytes(reg, 'bytes/ctr', 'v1');
    assert.equal(pushed.bytes.ingest, 0, `bytes through ingest: ${JSON.stringify(pushed)}`);
    // The API received the manifest, and no blob byte.
    assert.equal(pushed.bytes.api, manifestBytes, `bytes through the API (the manifest is ${manifestBytes}): ${JSON.stringify(pushed)}`);
    assert.equal(pushed.bytes.s3, blobs, `bytes into S3 at the edge: ${JSON.stringify(pushed)}`);
    assert.equal(pushed.requests.s3, count, `one edge PUT per blob: ${JSON.stringify(pushed)}`);
    assert.equal(pushed.requests.ingest, 0);
  });

  test('REGISTRY_INGEST=off: ctr pushes and pulls 50 MB layers (edge -> S3); a whole-layer PATCH gets an OCI error at once', { timeout: 180_000 }, async (t) => {
    toolGate(['containerd', 'ctr', 'skopeo']).check(t);
    const reg = await start(t, { REGISTRY_INGEST: 'off' });
    const work = await tempDir(t, 'bytes-off');
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [50 * MiB, 50 * MiB], gzip: false });
    const pushed = await ctrRoundTrip(t, reg, img, 'bytes/off');
    if (!pushed) return;
    const { manifestBytes, blobs } = await blobBytes(reg, 'bytes/off', 'v1');
    assert.ok(blobs > 100 * MiB, `two 50 MB layers: ${blobs}`);
    assert.equal(pushed.bytes.s3, blobs, `every blob byte went edge -> S3: ${JSON.stringify(pushed)}`);
    assert.equal(pushed.bytes.api, manifestBytes, `only the manifest through the API: ${JSON.stringify(pushed)}`);
    assert.equal(pushed.bytes.ingest, 0);

    // A client streaming a whole layer in one PATCH (classic docker, skopeo, podman): refused at the
    // edge with an OCI error, whether the length is declared or the body is chunked.
    const layer = Buffer.alloc(50 * MiB, 7);
    for (const chunked of [false, true]) {
      const post = await fetch(`${reg.url}/v2/bytes/patch/blobs/uploads/`, { method: 'POST' });
      assert.equal(post.status, 202);
      const location = new URL(post.headers.get('location') ?? '', reg.url);
      const started = Date.now();
      const body = chunked
        ? new ReadableStream<Uint8Array>({
            start(c) {
              for (let i = 0; i < layer.length; i += MiB) c.enqueue(layer.subarray(i, i + MiB));
              c.close();
            },
          })
        : layer;
      const r = await fetch(location, { method: 'PATCH', body, headers: { 'content-type': 'application/octet-stream' }, duplex: 'half', signal: AbortSignal.timeout(30_000) } as RequestInit);
      const text = await r.text();
      assert.equal(r.status, 413, `PATCH of 50 MB (${chunked ? 'chunked' : 'Content-Length'}): ${text}`);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal((JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code, 'SIZE_INVALID');
      assert.ok(Date.now() - started < 20_000, 'answered promptly');
    }
    const after = await stats(reg);
    assert.equal(after.bytes.ingest, 0, 'no ingest service, no bytes there');
  });

  test('skopeo, podman and docker (one PATCH per blob) send their big layers through ingest, nothing to S3', { timeout: 180_000 }, async (t) => {
    toolGate(['skopeo', 'podman', 'dockerd', 'docker']).check(t);
    const reg = await start(t);
    const work = await tempDir(t, 'bytes-patch');
    // One layer above what a Lambda takes (4.5 MiB less headroom): its PATCH must go to ingest.
    const img = await makeOciImage(join(work, 'layout'), { layerSizes: [12 * MiB, 256 * KiB], gzip: true });
    const big = img.layers[0]!.size;
    const expectIngest = (who: string, d: Stats, min: number) => {
      assert.ok(d.bytes.ingest >= min, `${who}: ${d.bytes.ingest} bytes through ingest, expected at least ${min}: ${JSON.stringify(d)}`);
      assert.equal(d.bytes.s3, 0, `${who}: no edge PUT: ${JSON.stringify(d)}`);
      assert.ok(d.bytes.api < 1 * MiB, `${who}: only small bodies through the API: ${JSON.stringify(d)}`);
    };

    const skopeo = await createSkopeo();
    t.onTestFinished(() => skopeo.close());
    let before = await stats(reg);
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.layoutDir}:v1`, `docker://${reg.host}/bytes/skopeo:v1`], { timeoutMs: 60_000 });
    expectIngest('skopeo', delta(before, await stats(reg)), big);

    const podman = await createPodman();
    t.onTestFinished(() => podman.close());
    await podman.run(['load', '-i', await toOciArchive(img, join(work, 'image.oci.tar'), 'v1')]);
    await podman.run(['tag', img.configDigest.slice(7), `${reg.host}/bytes/podman:v1`]);
    before = await stats(reg);
    await podman.run(['push', '--tls-verify=false', `${reg.host}/bytes/podman:v1`]);
    // podman compresses the layer again: about as big as the original (random bytes do not compress).
    expectIngest('podman', delta(before, await stats(reg)), big - 64 * KiB);

    const dockerd = await startOrSkip(t, () => startDockerd());
    if (!dockerd) return;
    t.onTestFinished(() => dockerd.stop());
    await dockerd.docker(['load', '-i', await toDockerArchive(img, join(work, 'image.docker.tar'), 'bytes/load:v1')]);
    await dockerd.docker(['tag', 'bytes/load:v1', `${reg.host}/bytes/docker:v1`]);
    before = await stats(reg);
    await dockerd.docker(['push', `${reg.host}/bytes/docker:v1`]);
    // Docker streams each layer chunked, so every layer goes to ingest, whatever its size.
    const d = delta(before, await stats(reg));
    expectIngest('docker', d, big - 64 * KiB);
    assert.ok(d.requests.ingest >= img.layers.length, `docker: one ingest PATCH per layer: ${JSON.stringify(d)}`);
  });
});
