// Docker token authentication end to end (issue 15) on `npm start` with REGISTRY_AUTH=on: users,
// projects and robots made with `npm run admin`; skopeo and docker log in, push and pull as a user,
// as a project robot and anonymously on a public project, and are refused cleanly elsewhere; buildah
// logs in, pushes, pulls as a robot and is refused without credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backend, startRegistry, onlyOnBackend, type RunningRegistry } from '../support/registry.ts';
import { createBuildah, createSkopeo, startDockerd, startOrSkip, toolGate, type Skopeo } from '../support/clients.ts';
import { makeOciImage, toDockerArchive, type TestImage } from '../support/images.ts';
import { adminJson } from '../support/cli.ts';

onlyOnBackend('local', 'users come from npm run admin on the data dir of npm start; start:aws with auth is tested in test/dev/start-aws/auth.test.ts');

const gate = toolGate(['skopeo']);
const PASSWORD = 'correct horse battery staple';
const KiB = 1024;

let dataDir: string;
let reg: RunningRegistry;
let skopeo: Skopeo;
let img: TestImage;
let layout: string;
let robotSecret: string;

const admin = (args: string[], stdin = '') => adminJson(dataDir, args, stdin);

const ref = (repo: string, tag = 'v1') => `docker://${reg.host}/${repo}:${tag}`;
const push = (repo: string, creds: string[]) => skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', ...creds, `oci:${layout}:v1`, ref(repo)], { timeoutMs: 30_000 });
const pull = (repo: string, creds: string[]) => skopeo.run(['inspect', '--tls-verify=false', ...creds, ref(repo)], { timeoutMs: 30_000 });

beforeAll(async () => {
  // Every test here is skipped on the other backend: set nothing up for it.
  if (backend() !== 'local') return;
  dataDir = await mkdtemp(join(tmpdir(), 'auth-e2e-'));
  await admin(['user', 'add', 'alice', '--admin'], PASSWORD);
  await admin(['user', 'add', 'dev'], PASSWORD);
  await admin(['project', 'create', 'team']);
  await admin(['project', 'create', 'pub', '--public']);
  await admin(['member', 'add', 'team', 'dev', 'developer']);
  robotSecret = String((await admin(['robot', 'create', 'team', 'ci', '--actions', 'pull,push'])).secret);
  reg = await startRegistry({ dataDir, env: { REGISTRY_AUTH: 'on' } });
  if (gate.missing) return;
  skopeo = await createSkopeo();
  layout = join(dataDir, 'layout');
  img = await makeOciImage(layout, { layerSizes: [64 * KiB] });
}, 60_000);

afterAll(async () => {
  await skopeo?.close();
  await reg?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('token auth with skopeo', () => {
  it('a user pushes to a project of theirs and pulls it back; a wrong password and no credentials are refused', { timeout: 60_000 }, async (t) => {
    gate.check(t);
    await push('team/app', ['--dest-creds', `dev:${PASSWORD}`]);
    const inspect = JSON.parse((await pull('team/app', ['--creds', `dev:${PASSWORD}`])).text) as { Digest: string };
    expect(inspect.Digest).toBe(img.manifestDigest);
    await expect(push('team/other', ['--dest-creds', 'dev:wrong password here'])).rejects.toThrow(/401|unauthorized|authentication/i);
    await expect(pull('team/app', ['--no-creds'])).rejects.toThrow(/401|unauthorized|denied|authentication/i);
  });

  it('a project robot pushes and pulls with its secret; revoked, it is refused', { timeout: 60_000 }, async (t) => {
    gate.check(t);
    const creds = `robot$team+ci:${robotSecret}`;
    await push('team/robot-made', ['--dest-creds', creds]);
    expect((JSON.parse((await pull('team/robot-made', ['--creds', creds])).text) as { Digest: string }).Digest).toBe(img.manifestDigest);
    // Not in another project.
    await expect(push('pub/robot-made', ['--dest-creds', creds])).rejects.toThrow(/401|unauthorized|denied|authentication/i);
    await admin(['robot', 'revoke', 'robot$team+ci']);
    await expect(pull('team/robot-made', ['--creds', creds])).rejects.toThrow(/401|unauthorized|authentication/i);
  });

  it('anyone pulls from a public project without credentials; pushing there needs a role', { timeout: 60_000 }, async (t) => {
    gate.check(t);
    await push('pub/app', ['--dest-creds', `alice:${PASSWORD}`]);
    expect((JSON.parse((await pull('pub/app', ['--no-creds'])).text) as { Digest: string }).Digest).toBe(img.manifestDigest);
    await expect(push('pub/app2', ['--dest-creds', `dev:${PASSWORD}`])).rejects.toThrow(/401|unauthorized|denied|authentication/i);
  });

  it('the realm and service come from configuration: a spoofed Host does not change the challenge', async () => {
    const r = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { host: 'evil.example.com', 'x-forwarded-host': 'evil.example.com' } });
    expect(r.status).toBe(401);
    const challenge = r.headers.get('www-authenticate') ?? '';
    expect(challenge).toBe(`Bearer realm="${reg.url}/token",service="oci-registry",scope="repository:team/app:pull"`);
    expect((await r.json()) as unknown).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
  });
});

describe('token auth with docker', () => {
  it('docker login: a wrong password fails; the right one stores an identity token, not the password; push and pull', { timeout: 120_000 }, async (t) => {
    toolGate(['dockerd', 'docker']).check(t);
    const dockerd = await startOrSkip(t, () => startDockerd());
    if (!dockerd) return;
    try {
      const login = (password: string) => dockerd.login('dev', password, reg.host);
      const bad = await login('not the password at all');
      expect(bad.code).not.toBe(0);
      expect(bad.err).toMatch(/unauthorized|authentication/i);
      const good = await login(PASSWORD);
      expect(good.code, good.err).toBe(0);
      const config = JSON.parse(await readFile(join(dockerd.dir, 'client', 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
      const entry = config.auths[reg.host];
      expect(entry?.identitytoken, JSON.stringify(config)).toBeTruthy();
      // No password in any form: in the clear, or inside an `auth` field (base64 of user:password).
      expect(JSON.stringify(config)).not.toContain(PASSWORD);
      for (const [host, e] of Object.entries(config.auths)) expect(Buffer.from(e.auth ?? '', 'base64').toString('utf8'), host).not.toContain(PASSWORD);
      const archive = await toDockerArchive(img, join(dataDir, 'img.docker.tar'), 'e2e/load:v1');
      await dockerd.docker(['load', '-i', archive]);
      const target = `${reg.host}/team/docker:v1`;
      await dockerd.docker(['tag', 'e2e/load:v1', target]);
      await dockerd.docker(['push', target], { timeoutMs: 60_000 });
      await dockerd.docker(['rmi', target, 'e2e/load:v1']);
      await dockerd.docker(['pull', target], { timeoutMs: 60_000 });
    } finally {
      await dockerd.stop();
    }
  });
});

describe('token auth with buildah', () => {
  it('buildah login: a wrong password fails, the right one lets it push; a robot pulls it back; without credentials it is refused', { timeout: 120_000 }, async (t) => {
    toolGate(['buildah', 'skopeo']).check(t);
    const buildah = await createBuildah();
    try {
      const login = (user: string, secret: string) => buildah.run(['login', '--tls-verify=false', '--username', user, '--password-stdin', reg.host], { input: secret, allowFail: true });
      const bad = await login('dev', 'not the password at all');
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/unauthorized|authentication|invalid username\/password/i);
      const good = await login('dev', PASSWORD);
      expect(good.code, good.stderr).toBe(0);
      expect(Object.keys((JSON.parse(await readFile(buildah.authFile, 'utf8')) as { auths: Record<string, unknown> }).auths)).toEqual([reg.host]);

      // buildah names an image pulled from a layout after its path, which must then be lowercase.
      const lower = join(buildah.dir, 'layout');
      await symlink(layout, lower);
      const imageId = (await buildah.run(['pull', '--quiet', `oci:${lower}:v1`])).text.trim();
      expect(`sha256:${imageId}`).toBe(img.configDigest);
      const target = `docker://${reg.host}/team/buildah:v1`;
      await buildah.run(['push', '--tls-verify=false', imageId, target], { timeoutMs: 60_000 });
      await buildah.run(['logout', reg.host]);
      await buildah.run(['rmi', '--all', '--force']);

      const noCreds = await buildah.run(['pull', '--tls-verify=false', target], { allowFail: true, timeoutMs: 60_000 });
      expect(noCreds.code).not.toBe(0);
      expect(noCreds.stderr).toMatch(/401|unauthorized|authentication|denied/i);

      const robot = await admin(['robot', 'create', 'team', 'buildah-reader', '--actions', 'pull']);
      const pulled = await buildah.run(['pull', '--quiet', '--tls-verify=false', '--creds', `${String(robot.name)}:${String(robot.secret)}`, target], { timeoutMs: 60_000 });
      expect(`sha256:${pulled.text.trim()}`, 'the image ID (config digest) survives the round trip').toBe(img.configDigest);
    } finally {
      await buildah.close();
    }
  });
});
