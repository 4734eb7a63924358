// The pull-through cache on `npm start` against a real upstream on loopback (Debian's docker-registry,
// distribution 2.8): skopeo pulls through a proxy project with the upstream's digests, later pulls
// come from storage, pushes are refused, a tag moved upstream is seen after the TTL, and with the
// upstream stopped the cached copy is served (stale-if-error) with a log line and a metric.
import { expect, test } from 'vitest';
import { join } from 'node:path';
import { toolGate } from '../support/clients.ts';
import { onlyOnBackend, startRegistry } from '../support/registry.ts';
import { count, createProxy, skopeoAndUpstream, manifestDigest, seed } from './proxy-helpers.ts';
import { tempDir } from './helpers.ts';

const gate = toolGate(['skopeo', 'docker-registry']);
onlyOnBackend('local', 'proxy projects are made here with the admin CLI in a data dir; the AWS shape has its own: test/dev/start-aws/proxy.test.ts');
const KiB = 1024;

test('skopeo pulls through a proxy project: upstream digests, cached, push refused, TTL, stale-if-error, mirror paths', { timeout: 120_000 }, async (t) => {
  gate.check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t);
  const img = await seed(t, skopeo, `${upstream.host}/team/app:v1`, [300 * KiB, 700 * KiB]);

  const dataDir = await tempDir(t, 'proxy-data');
  const created = await createProxy(dataDir, 'up', upstream.url, ['--tag-ttl', '1s']);
  expect(created.proxy).toEqual({ upstream: upstream.url, namespace: null, tagTtlSeconds: 1, credentials: 'none' });
  const reg = await startRegistry({ dataDir, env: { REGISTRY_PROXY_MIRROR: 'up' } });
  t.onTestFinished(() => reg.stop());
  const ref = `${reg.host}/up/team/app:v1`;

  // First pull: fetched from the upstream, digests equal to the upstream's.
  expect(await manifestDigest(skopeo, ref)).toBe(img.digest);
  expect(await manifestDigest(skopeo, `${upstream.host}/team/app:v1`)).toBe(img.digest);
  const out = join(await tempDir(t, 'proxy-pull'), 'oci');
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:v1`]);
  for (const d of img.blobs) expect(count(upstream.requests, `GET /v2/team/app/blobs/${d} 200`)).toBe(1);

  // Second pull: from storage (within the TTL no request reaches the upstream at all).
  const before = upstream.requests.length;
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(await tempDir(t, 'proxy-pull2'), 'oci')}:v1`]);
  expect(upstream.requests.slice(before).filter((r) => r.includes('/blobs/'))).toEqual([]);

  // dockerd's registry-mirrors paths (no project) map into the mirror project.
  const mirrored = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(mirrored.status).toBe(200);
  expect(mirrored.headers.get('docker-content-digest')).toBe(img.digest);
  await mirrored.arrayBuffer();

  // Pushes into the proxy project are refused with DENIED and a message saying why.
  const post = await fetch(`${reg.url}/v2/up/team/mine/blobs/uploads/`, { method: 'POST' });
  expect(post.status).toBe(403);
  const body = (await post.json()) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]!.code).toBe('DENIED');
  expect(body.errors[0]!.message).toContain('pull-through cache');
  await expect(skopeo.run(['copy', '--dest-tls-verify=false', `oci:${out}:v1`, `docker://${reg.host}/up/team/mine:v1`])).rejects.toThrow(/denied/i);

  // A tag moved upstream is seen once the TTL (1 s) has passed: one HEAD revalidates it.
  const img2 = await seed(t, skopeo, `${upstream.host}/team/app:v1`, [400 * KiB]);
  await new Promise((r) => setTimeout(r, 1200));
  expect(await manifestDigest(skopeo, ref)).toBe(img2.digest);
  expect(count(upstream.requests, 'HEAD /v2/team/app/manifests/v1')).toBeGreaterThanOrEqual(1);
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(await tempDir(t, 'proxy-pull-moved'), 'oci')}:v1`]);

  // Upstream stopped: the same pulls still succeed from the cache, by tag (stale) and by digest.
  await upstream.stop();
  await new Promise((r) => setTimeout(r, 1200));
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(await tempDir(t, 'proxy-pull3'), 'oci')}:v1`]);
  expect(await manifestDigest(skopeo, ref)).toBe(img2.digest);
  expect(await manifestDigest(skopeo, `${reg.host}/up/team/app@${img.digest}`)).toBe(img.digest);
  const stale = reg.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'proxy stale-served');
  expect(stale.length).toBeGreaterThanOrEqual(1);
  expect(stale[0]).toMatchObject({ level: 'warn', metric: 'ProxyStaleServed', repository: 'up/team/app', reference: 'v1' });

  // Nothing cached and the upstream down: 503 UNAVAILABLE, not a 500.
  const miss = await fetch(`${reg.url}/v2/up/team/other/manifests/v1`);
  expect(miss.status).toBe(503);
  expect(((await miss.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('UNAVAILABLE');
});
