// containerd (ctr) and docker pull through the pull-through cache: ctr by project path, dockerd by
// its `registry-mirrors` setting (paths without the project, mapped into REGISTRY_PROXY_MIRROR's
// project). Digests equal to the upstream's (distribution 2.8 on loopback).
import { expect, test } from 'vitest';
import { startContainerd, startDockerd, startOrSkip, toolGate } from '../support/clients.ts';
import { onlyOnBackend, startRegistry } from '../support/registry.ts';
import { count, createProxy, seed, skopeoAndUpstream } from './proxy-helpers.ts';
import { tempDir } from './helpers.ts';

onlyOnBackend('local', 'proxy projects are made here with the admin CLI in a data dir; the AWS shape has its own: test/dev/start-aws/proxy.test.ts');
const KiB = 1024;

test('ctr pulls through a proxy project: the upstream digest, each blob fetched once', { timeout: 90_000 }, async (t) => {
  toolGate(['skopeo', 'docker-registry', 'containerd', 'ctr']).check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t);
  const img = await seed(t, skopeo, `${upstream.host}/team/ctr:v1`, [512 * KiB, 256 * KiB]);
  const dataDir = await tempDir(t, 'proxy-ctr');
  await createProxy(dataDir, 'up', upstream.url);
  const reg = await startRegistry({ dataDir });
  t.onTestFinished(() => reg.stop());
  const ctrd = await startOrSkip(t, () => startContainerd({ namespace: 'proxy' }));
  if (!ctrd) return;
  t.onTestFinished(() => ctrd.stop());

  const ref = `${reg.host}/up/team/ctr:v1`;
  await ctrd.ctr(['images', 'pull', '--plain-http', ref]);
  const ls = (await ctrd.ctr(['images', 'ls'])).text;
  expect(ls).toContain(img.digest);
  for (const d of img.blobs) expect(count(upstream.requests, `GET /v2/team/ctr/blobs/${d} 200`), d).toBe(1);
});

test("docker pulls through registry-mirrors: /v2/library/<name> served by the mirror project", { timeout: 120_000 }, async (t) => {
  toolGate(['skopeo', 'docker-registry', 'dockerd', 'docker']).check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t);
  const img = await seed(t, skopeo, `${upstream.host}/library/proxied:1`, [300 * KiB]);
  const dataDir = await tempDir(t, 'proxy-docker');
  await createProxy(dataDir, 'hub', upstream.url);
  const reg = await startRegistry({ dataDir, env: { REGISTRY_PROXY_MIRROR: 'hub' } });
  t.onTestFinished(() => reg.stop());
  const dockerd = await startOrSkip(t, () => startDockerd({ extraArgs: ['--registry-mirror', reg.url] }));
  if (!dockerd) return;
  t.onTestFinished(() => dockerd.stop());

  await dockerd.docker(['pull', 'proxied:1'], { timeoutMs: 60_000 });
  const inspect = (await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'proxied:1'])).text;
  expect(inspect).toContain(img.digest);
  expect(count(upstream.requests, 'GET /v2/library/proxied/manifests/')).toBeGreaterThanOrEqual(1);
});
