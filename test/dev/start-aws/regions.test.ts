// start:aws with two regions (issue 14): the primary's API in us-east-1, a replica's in eu-west-1,
// the real read-routing CloudFront Function in front. With the primary API down, skopeo and ctr
// still pull (the replica serves the reads), and a push gets a clear 503 OCI error instead of a
// CloudFront error page; with it back, pushes work again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { createSkopeo, startContainerd, startOrSkip, toolGate, type Skopeo } from '../../support/clients.ts';
import { makeOciImage, type TestImage } from '../../support/images.ts';

const gate = toolGate(['skopeo', 'containerd', 'ctr']);
const KiB = 1024;

let local: AwsLocal;
let skopeo: Skopeo;
let work: string;
let img: TestImage;
let host: string;

const stats = async () => (await (await fetch(`${local.url}/_local/stats`)).json()) as { apiOrigins: Record<string, number> };

beforeAll(async () => {
  if (gate.missing) return;
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, replicaRegion: 'eu-west-1' });
  host = new URL(local.url).host;
  skopeo = await createSkopeo();
  work = await mkdtemp(join(tmpdir(), 'regions-'));
  img = await makeOciImage(join(work, 'layout'), { layerSizes: [300 * KiB, 40 * KiB] });
  await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:v1`, `docker://${host}/regions/app:v1`]);
}, 60_000);

afterAll(async () => {
  local?.regions?.setApiDown('us-east-1', false);
  await skopeo?.close();
  await local?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('start:aws with two regions', () => {
  it('with both up, pulls near the primary are served by the primary; writes only ever by the primary', async (t) => {
    gate.check(t);
    const before = await stats();
    const r = await fetch(`${local.url}/v2/regions/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(r.status).toBe(200);
    const after = await stats();
    expect((after.apiOrigins.api ?? 0) - (before.apiOrigins.api ?? 0)).toBe(1);
    expect(after.apiOrigins['api-eu-west-1'] ?? 0).toBe(before.apiOrigins['api-eu-west-1'] ?? 0);
  });

  it('primary API down: skopeo and ctr pull from the replica, byte-identical', { timeout: 60_000 }, async (t) => {
    gate.check(t);
    local.regions!.setApiDown('us-east-1', true);
    try {
      const before = await stats();
      const out = join(work, 'pulled');
      await skopeo.run(['copy', '--src-tls-verify=false', `docker://${host}/regions/app:v1`, `oci:${out}:v1`]);
      const inspect = JSON.parse((await skopeo.run(['inspect', '--tls-verify=false', `docker://${host}/regions/app:v1`])).text) as { Digest: string; Layers: string[] };
      expect(inspect.Digest).toBe(img.manifestDigest);
      expect(inspect.Layers).toEqual(img.layers.map((l) => l.digest));

      const ctrd = await startOrSkip(t, () => startContainerd({ namespace: 'regions' }));
      if (!ctrd) return;
      try {
        await ctrd.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', `${host}/regions/app:v1`], { timeoutMs: 30_000 });
        const ls = (await ctrd.ctr(['images', 'ls'])).text;
        expect(ls).toContain(img.manifestDigest);
      } finally {
        await ctrd.stop();
      }
      const after = await stats();
      // Every read tried the primary first (nearest to a viewer without a location), then failed over.
      const replicaServed = (after.apiOrigins['api-eu-west-1'] ?? 0) - (before.apiOrigins['api-eu-west-1'] ?? 0);
      expect(replicaServed).toBeGreaterThan(4);
    } finally {
      local.regions!.setApiDown('us-east-1', false);
    }
  });

  it('primary API down: a push gets 503 UNAVAILABLE (an OCI error, not a gateway page); skopeo fails; back up, it pushes', { timeout: 60_000 }, async (t) => {
    gate.check(t);
    local.regions!.setApiDown('us-east-1', true);
    try {
      const r = await fetch(`${local.url}/v2/regions/app/blobs/uploads/`, { method: 'POST' });
      expect(r.status).toBe(503);
      const body = (await r.json()) as { errors: { code: string; detail: { reason: string } }[] };
      expect(body.errors[0]!.code).toBe('UNAVAILABLE');
      expect(body.errors[0]!.detail.reason).toMatch(/writes fail until it is back/);
      const put = await fetch(`${local.url}/v2/regions/app/manifests/v9`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{}' });
      expect(put.status).toBe(503);
      await expect(skopeo.run(['copy', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:v1`, `docker://${host}/regions/app:v2`], { timeoutMs: 30_000 })).rejects.toThrow(/503|unavailable/i);
    } finally {
      local.regions!.setApiDown('us-east-1', false);
    }
    await skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:v1`, `docker://${host}/regions/app:v2`]);
    const head = await fetch(`${local.url}/v2/regions/app/manifests/v2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(head.headers.get('docker-content-digest')).toBe(img.manifestDigest);
  });
});
