// Docker token authentication end to end (issue 15) on `npm start` with REGISTRY_AUTH=on: users,
// projects and robots made with `npm run admin`; skopeo and docker log in, push and pull as a user,
// as a project robot and anonymously on a public project, and are refused cleanly elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, onlyOnBackend, type RunningRegistry } from '../support/registry.ts';
import { createSkopeo, startDockerd, startOrSkip, toolGate, type Skopeo } from '../support/clients.ts';
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
  await rm(dataDir, { recursive: true, force: true });
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
