// The pull-through cache against a real upstream (distribution 2.8) behind authentication, and under
// a herd: 50 parallel pulls of one uncached image make one upstream fetch of each blob (counted in
// the upstream's access log); Basic auth (htpasswd) and Docker's token flow (a token server of the
// test's own, as Docker Hub's) with the credentials kept out of argv, answers and logs.
import { expect, test } from 'vitest';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toolGate } from '../support/clients.ts';
import { onlyOnBackend, startRegistry } from '../support/registry.ts';
import { startTokenUpstream } from '../support/token-upstream.ts';
import { UPSTREAM_PASSWORD, UPSTREAM_USER } from '../support/upstream-registry.ts';
import { admin, count, createProxy, httpPull as pull, skopeoAndUpstream, manifestDigest, seed, skopeoLogin } from './proxy-helpers.ts';
import { tempDir } from './helpers.ts';

const gate = toolGate(['skopeo', 'docker-registry']);
onlyOnBackend('local', 'proxy projects are made here with the admin CLI in a data dir; the AWS shape has its own: test/dev/start-aws/proxy.test.ts');
const KiB = 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

test('50 parallel pulls of one uncached image: one upstream fetch of the manifest and of each blob', { timeout: 120_000 }, async (t) => {
  gate.check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t);
  const img = await seed(t, skopeo, `${upstream.host}/team/herd:v1`, [2048 * KiB, 1024 * KiB, 512 * KiB]);
  const dataDir = await tempDir(t, 'proxy-herd');
  await createProxy(dataDir, 'up', upstream.url);
  const reg = await startRegistry({ dataDir });
  t.onTestFinished(() => reg.stop());
  const before = upstream.requests.length;

  const pulls = await Promise.all(Array.from({ length: 50 }, () => pull(reg.url, 'up/team/herd', 'v1')));
  for (const digests of pulls) expect(digests).toEqual(img.blobs);
  const seen = upstream.requests.slice(before);
  expect(count(seen, 'GET /v2/team/herd/manifests/v1 200')).toBe(1);
  for (const d of img.blobs) expect(count(seen, `GET /v2/team/herd/blobs/${d} `), d).toBe(1);
});

test('Basic auth upstream (htpasswd): password from stdin to the data dir, never in argv, answers or logs', { timeout: 90_000 }, async (t) => {
  gate.check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t, { basicAuth: true });
  await skopeoLogin(skopeo, upstream.host, UPSTREAM_USER, UPSTREAM_PASSWORD);
  const img = await seed(t, skopeo, `${upstream.host}/private/app:v1`, [256 * KiB]);

  const dataDir = await tempDir(t, 'proxy-basic');
  const created = await admin(dataDir, ['project', 'create', 'priv', '--proxy', upstream.url, '--upstream-user', UPSTREAM_USER, '--upstream-password-stdin'], UPSTREAM_PASSWORD);
  expect(created.code, created.err).toBe(0);
  expect(JSON.parse(created.out)).toMatchObject({ name: 'priv', proxy: { upstream: upstream.url, credentials: 'stored' } });
  const listed = await admin(dataDir, ['project', 'list']);
  expect(listed.code).toBe(0);
  for (const text of [created.out, created.err, listed.out, listed.err]) expect(text).not.toContain(UPSTREAM_PASSWORD);
  expect((await stat(join(dataDir, 'upstream-credentials', 'priv.json'))).mode & 0o077).toBe(0);
  // No password on stdin: refused, nothing created.
  const refused = await admin(dataDir, ['project', 'create', 'priv2', '--proxy', upstream.url, '--upstream-user', UPSTREAM_USER, '--upstream-password-stdin']);
  expect(refused.code).not.toBe(0);

  const reg = await startRegistry({ dataDir });
  t.onTestFinished(() => reg.stop());
  expect(await manifestDigest(skopeo, `${reg.host}/priv/private/app:v1`)).toBe(img.digest);
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${reg.host}/priv/private/app:v1`, `oci:${join(await tempDir(t, 'proxy-basic-pull'), 'oci')}:v1`]);
  expect(reg.logs.join('\n')).not.toContain(UPSTREAM_PASSWORD);
  expect(reg.logs.join('\n')).not.toContain(Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64'));
});

test("Docker's token flow (WWW-Authenticate Bearer realm/service/scope): one token per scope, reused until it expires", { timeout: 90_000 }, async (t) => {
  gate.check(t);
  const { skopeo, upstream } = await skopeoAndUpstream(t);
  const img = await seed(t, skopeo, `${upstream.host}/library/alpine:3`, [300 * KiB, 100 * KiB]);
  const front = await startTokenUpstream(upstream.url, { user: UPSTREAM_USER, password: UPSTREAM_PASSWORD });
  t.onTestFinished(() => front.stop());

  const dataDir = await tempDir(t, 'proxy-token');
  await createProxy(dataDir, 'hub', front.url, ['--upstream-user', UPSTREAM_USER, '--upstream-password-stdin', '--upstream-namespace', 'library'], UPSTREAM_PASSWORD);
  const reg = await startRegistry({ dataDir });
  t.onTestFinished(() => reg.stop());

  expect(await manifestDigest(skopeo, `${reg.host}/hub/alpine:3`)).toBe(img.digest);
  await skopeo.run(['copy', '--src-tls-verify=false', `docker://${reg.host}/hub/alpine:3`, `oci:${join(await tempDir(t, 'proxy-token-pull'), 'oci')}:3`]);
  // One token for the one scope, asked with the credentials; every fetch after it carried the token.
  expect(front.tokenRequests).toEqual([{ scope: 'repository:library/alpine:pull', service: 'token-upstream', user: UPSTREAM_USER }]);
  expect(front.authorized).toBe(1 + img.blobs.length);

  // Wrong credentials upstream: the pull is refused as unknown, never a 500.
  const bad = await tempDir(t, 'proxy-token-bad');
  await createProxy(bad, 'hub', front.url, ['--upstream-user', UPSTREAM_USER, '--upstream-password-stdin'], 'wrong-password-1');
  const reg2 = await startRegistry({ dataDir: bad });
  t.onTestFinished(() => reg2.stop());
  const res = await fetch(`${reg2.url}/v2/hub/alpine/manifests/3`, { headers: { accept: OCI_MANIFEST } });
  expect(res.status).toBe(404);
  expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('MANIFEST_UNKNOWN');
});
