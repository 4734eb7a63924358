// Anonymous pulls of public projects (issue 15, item 4), on `npm start` with auth on: no token
// needed (a client's first GET succeeds), and every answer says whether a shared cache (the CDN in
// AWS) may keep it: only successful anonymous reads of public content are `public`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, setMember } from '../../../functions/core/auth/admin.ts';
import { OCI_MANIFEST } from '../../support/oci.ts';
import { pushTinyImage, tinyImage } from '../../support/tiny-image.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';

const PASSWORD = 'correct horse battery staple';
let dir: string;
let reg: RunningRegistry;
let service: string;
const image = tinyImage();
const { layerDigest, digest: manifestDigest } = image;

async function token(scope: string, user?: string): Promise<string> {
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}` } : {};
  const r = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${scope}`, { headers });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

async function push(repo: string): Promise<void> {
  const auth = { authorization: `Bearer ${await token(`repository:${repo}:pull,push`, 'dev')}` };
  expect((await pushTinyImage(reg.url, repo, 'v1', auth, image)).put.status).toBe(201);
}

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${reg.url}${path}`, { method, redirect: 'manual', headers: { accept: OCI_MANIFEST, ...headers } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'public-read-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await addUser(store, 'dev', PASSWORD, false);
  await createProject(store, 'pub', true);
  await createProject(store, 'team', false);
  await setMember(store, 'pub', 'dev', 'developer');
  await setMember(store, 'team', 'dev', 'developer');
  store.close();
  reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  service = /service="([^"]+)"/.exec((await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '')![1]!;
  await push('pub/app');
  await push('team/app');
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('anonymous reads of a public project', () => {
  it('need no token, and say how long a shared cache may keep them: by digest a day, a tag or tag list a minute, a blob redirect five minutes', async () => {
    for (const method of ['GET', 'HEAD']) {
      const byDigest = await get(`/v2/pub/app/manifests/${manifestDigest}`, {}, method);
      expect(byDigest.status).toBe(200);
      expect(byDigest.headers.get('cache-control')).toBe('public, max-age=86400');
      const byTag = await get('/v2/pub/app/manifests/v1', {}, method);
      expect(byTag.status).toBe(200);
      expect(byTag.headers.get('cache-control')).toBe('public, max-age=60');
    }
    expect((await get('/v2/pub/app/tags/list')).headers.get('cache-control')).toBe('public, max-age=60');
    const blob = await get(`/v2/pub/app/blobs/${layerDigest}`);
    expect(blob.status).toBe(307);
    expect(blob.headers.get('cache-control')).toBe('public, max-age=300');
    expect((await get(`/v2/pub/app/blobs/${layerDigest}`, {}, 'HEAD')).headers.get('cache-control')).toBe('public, max-age=86400');
  });

  it('what every caller without credentials gets alike is shareable too: the /v2/ challenge (5 minutes) and an anonymous token (1 minute of its 5)', async () => {
    const ping = await get('/v2/');
    expect(ping.status).toBe(401);
    expect(ping.headers.get('cache-control')).toBe('public, max-age=300');
    const anon = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=repository:pub/app:pull`);
    expect(anon.status).toBe(200);
    expect(anon.headers.get('cache-control')).toBe('public, max-age=60');
    expect(anon.headers.get('pragma')).toBeNull();
  });

  it("with an anonymous token (docker's way after the /v2/ challenge) they are as shareable", async () => {
    const r = await get(`/v2/pub/app/manifests/${manifestDigest}`, { authorization: `Bearer ${await token('repository:pub/app:pull')}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400');
  });

  it('what is not shareable says private, no-store: a signed-in read, a miss, a private project, a push, the challenge', async () => {
    const dev = { authorization: `Bearer ${await token('repository:pub/app:pull repository:team/app:pull', 'dev')}` };
    for (const path of [`/v2/pub/app/manifests/${manifestDigest}`, `/v2/team/app/manifests/${manifestDigest}`, '/v2/team/app/manifests/v1']) {
      const r = await get(path, dev);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('private, no-store');
    }
    const missing = await get(`/v2/pub/app/manifests/sha256:${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('private, no-store');
    for (const path of [`/v2/team/app/manifests/${manifestDigest}`, '/v2/team/app/tags/list', `/v2/team/app/blobs/${layerDigest}`, '/v2/_catalog']) {
      const r = await get(path);
      expect(r.status, path).toBe(401);
      expect(r.headers.get('cache-control')).toBe('private, no-store');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    }
    // The token endpoint with credentials, and /v2/ with any Authorization: the caller's own.
    const login = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=repository:pub/app:pull`, { headers: { authorization: `Basic ${Buffer.from(`dev:${PASSWORD}`).toString('base64')}` } });
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect((await get('/v2/', { authorization: 'Bearer nonsense' })).headers.get('cache-control')).toBe('private, no-store');
    const anonPush = await fetch(`${reg.url}/v2/pub/app/blobs/uploads/`, { method: 'POST' });
    expect(anonPush.status).toBe(401);
    expect(anonPush.headers.get('cache-control')).toBe('private, no-store');
  });
});
