// Keyless CI and personal access tokens end to end (issue 15) on `npm start` with REGISTRY_AUTH=on:
// trust rules and tokens made with `npm run admin`, a local issuer standing in for GitHub Actions'
// (REGISTRY_OIDC_GITHUB_URL), skopeo pushing with `--dest-creds oidc:<ID token>`, and a push after
// the ID token expired with the refresh token `docker login` would have stored (skopeo's auth file
// `identitytoken`, which it trades at the token endpoint's refresh_token grant).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backend, startRegistry, onlyOnBackend, type RunningRegistry } from '../support/registry.ts';
import { createSkopeo, startDockerd, startOrSkip, toolGate, type Skopeo } from '../support/clients.ts';
import { makeOciImage, toDockerArchive, type TestImage } from '../support/images.ts';
import { adminJson, ADMIN_CLI, runNodeCli } from '../support/cli.ts';
import { startIssuer, type TestIssuer } from '../support/oidc-issuer.ts';

onlyOnBackend('local', 'trust rules and tokens come from npm run admin on the data dir of npm start');

const gate = toolGate(['skopeo']);
const KiB = 1024;

let dataDir: string;
let reg: RunningRegistry;
let issuer: TestIssuer;
let skopeo: Skopeo;
let img: TestImage;
let layout: string;
let rule: Record<string, unknown>;
let pat: string;

const admin = (args: string[], stdin = '') => adminJson(dataDir, args, stdin);

const ref = (repo: string, tag = 'v1') => `docker://${reg.host}/${repo}:${tag}`;
const push = (repo: string, args: string[]) => skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', ...args, `oci:${layout}:v1`, ref(repo)], { timeoutMs: 30_000 });
const digestOf = async (repo: string, args: string[]) => (JSON.parse((await skopeo.run(['inspect', '--tls-verify=false', ...args, ref(repo)], { timeoutMs: 30_000 })).text) as { Digest: string }).Digest;
const REFUSED = /401|unauthorized|denied|authentication/i;

beforeAll(async () => {
  // Every test here is skipped on the other backend: set nothing up for it.
  if (backend() !== 'local') return;
  dataDir = await mkdtemp(join(tmpdir(), 'oidc-e2e-'));
  // The service name (and so the audience) of a registry without REGISTRY_URL is "oci-registry".
  issuer = await startIssuer({ audience: 'oci-registry' });
  await admin(['project', 'create', 'team']);
  rule = await admin(['trust', 'add', 'team', '--github', 'octo-org/app', '--owner-id', '1001', '--repository-id', '2002', '--ref', 'main', '--life', '30m']);
  await admin(['user', 'add', 'sso', '--no-password']);
  await admin(['member', 'add', 'team', 'sso', 'developer']);
  pat = String((await admin(['token', 'create', 'sso', 'ci', '--expires', '7d'])).token);
  layout = join(dataDir, 'layout');
  if (!gate.missing) [skopeo, img] = await Promise.all([createSkopeo(), makeOciImage(layout, { layerSizes: [64 * KiB] })]);
  reg = await startRegistry({ dataDir, env: { REGISTRY_AUTH: 'on', REGISTRY_OIDC_GITHUB_URL: issuer.url } });
}, 60_000);

afterAll(async () => {
  await Promise.all([skopeo?.close(), reg?.stop(), issuer?.close()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm run admin: trust rules and access tokens', () => {
  it('trust add prints the rule (ids pinned, ref expanded); list shows it; remove of an unknown id fails', async () => {
    expect(rule).toMatchObject({ project: 'team', github: 'octo-org/app', ownerId: '1001', repositoryId: '2002', ref: 'refs/heads/main', actions: ['pull', 'push'], maxSeconds: 1800, issuer: 'https://token.actions.githubusercontent.com' });
    expect((await admin(['trust', 'list', 'team'])).rules).toEqual([rule]);
    const { code, err } = await runNodeCli(ADMIN_CLI, ['trust', 'remove', 'team', 'nope'], { env: { ...process.env, REGISTRY_DATA_DIR: dataDir } });
    expect(code).toBe(1);
    expect(err).toMatch(/no trust rule nope/);
    const usage = await runNodeCli(ADMIN_CLI, ['trust', 'add', 'team', '--github', 'octo-org/app'], { env: { ...process.env, REGISTRY_DATA_DIR: dataDir } });
    expect(usage.code).toBe(64);
    expect(usage.err).toMatch(/--owner-id is required/);
  });

  it('token create shows the token once; token list never shows it', async () => {
    expect(pat).toMatch(/^pat\.ci\./);
    const listed = JSON.stringify(await admin(['token', 'list', 'sso']));
    expect(listed).toContain('"name":"ci"');
    expect(listed).not.toContain(pat.split('.')[2]);
  });
});

describe('keyless CI with skopeo', () => {
  it('pushes and pulls with --creds oidc:<ID token>; another owner\'s token, a fork PR\'s, another branch\'s are refused', { timeout: 120_000 }, async (t) => {
    gate.check(t);
    const idToken = await issuer.idToken();
    await push('team/app', ['--dest-creds', `oidc:${idToken}`]);
    expect(await digestOf('team/app', ['--creds', `oidc:${idToken}`])).toBe(img.manifestDigest);
    await expect(push('team/app', ['--dest-creds', `oidc:${await issuer.idToken({ repository_owner_id: '31337', repository_id: '31338' })}`])).rejects.toThrow(REFUSED);
    await expect(push('team/app', ['--dest-creds', `oidc:${await issuer.idToken({ event_name: 'pull_request', ref: 'refs/pull/1/merge' })}`])).rejects.toThrow(REFUSED);
    await expect(push('team/app', ['--dest-creds', `oidc:${await issuer.idToken({ ref: 'refs/heads/feature' })}`])).rejects.toThrow(REFUSED);
  });

  it('a push after the ID token expired, with the refresh token from the login', { timeout: 120_000 }, async (t) => {
    gate.check(t);
    // An ID token that expires a second from now (valid 10 s more, the clock tolerance), as docker login uses it.
    const idToken = await issuer.idToken({}, { issuedAgo: 299, seconds: 300 });
    const login = await fetch(`${reg.url}/token?service=oci-registry&offline_token=true&client_id=docker`, { headers: { authorization: `Basic ${Buffer.from(`oidc:${idToken}`).toString('base64')}` } });
    expect(login.status).toBe(200);
    const { refresh_token: refresh } = (await login.json()) as { refresh_token: string };
    await sleep(12_000);
    // The ID token is no good any more...
    await expect(push('team/late', ['--dest-creds', `oidc:${idToken}`])).rejects.toThrow(REFUSED);
    // ...but the identity token is, as docker keeps it in config.json after `docker login`.
    const authfile = join(skopeo.dir, 'identity-auth.json');
    // (docker writes the user name with an empty password beside it; containers/image needs that `auth` to read the entry.)
    await writeFile(authfile, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('oidc:').toString('base64'), identitytoken: refresh } } }));
    await push('team/late', ['--dest-authfile', authfile]);
    expect(await digestOf('team/late', ['--authfile', authfile])).toBe(img.manifestDigest);
  });
});

describe('keyless CI with docker', () => {
  it('docker login -u oidc stores an identity token, and docker push works after the ID token expired', { timeout: 180_000 }, async (t) => {
    toolGate(['dockerd', 'docker']).check(t);
    const dockerd = await startOrSkip(t, () => startDockerd());
    if (!dockerd) return;
    try {
      const archive = await toDockerArchive(img, join(dataDir, 'img.docker.tar'), 'e2e/load:v1');
      await dockerd.docker(['load', '-i', archive]);
      const target = `${reg.host}/team/docker-ci:v1`;
      await dockerd.docker(['tag', 'e2e/load:v1', target]);
      // Expires a second from now (then 10 s of clock tolerance).
      const idToken = await issuer.idToken({}, { issuedAgo: 299, seconds: 300 });
      const issued = Date.now();
      const login = await dockerd.login('oidc', idToken, reg.host);
      expect(login.code, login.err).toBe(0);
      const config = JSON.parse(await readFile(join(dockerd.dir, 'client', 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string }> };
      const stored = config.auths[reg.host]?.identitytoken;
      expect(stored, JSON.stringify(config)).toBeTruthy();
      expect(stored).not.toBe(idToken);
      await sleep(Math.max(0, issued + 12_000 - Date.now()));
      await dockerd.docker(['push', target], { timeoutMs: 60_000 });
      expect(await digestOf('team/docker-ci', ['--creds', `oidc:${await issuer.idToken()}`])).toMatch(/^sha256:[0-9a-f]{64}$/);
    } finally {
      await dockerd.stop();
    }
  });
});

describe('personal access tokens with skopeo', () => {
  it('a user without a password pushes with a token; revoked, it is refused', { timeout: 120_000 }, async (t) => {
    gate.check(t);
    await push('team/pat', ['--dest-creds', `sso:${pat}`]);
    expect(await digestOf('team/pat', ['--creds', `sso:${pat}`])).toBe(img.manifestDigest);
    await admin(['token', 'revoke', 'sso', 'ci']);
    await expect(digestOf('team/pat', ['--creds', `sso:${pat}`])).rejects.toThrow(REFUSED);
  });
});
