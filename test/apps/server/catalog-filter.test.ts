// `GET /v2/_catalog` with auth on (issue 15): a system administrator sees every repository; any other
// user or robot sees only the ones it may pull (public projects, its own projects, a robot's
// repository patterns), page by page; anonymous callers and accounts disabled after their token was
// issued are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, createRobot, setDisabled, setMember } from '../../../functions/core/auth/admin.ts';
import { pushTinyImage } from '../../support/tiny-image.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';

const PASSWORD = 'correct horse battery staple';
const REPOS = ['other/secret', 'pub/app', 'team/app', 'team/tool'];
let dir: string;
let reg: RunningRegistry;
let service: string;
let robot: { name: string; secret: string };

async function token(user: string, password: string, scope: string): Promise<string> {
  const r = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${scope}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** The catalog as `user` sees it, following Link headers page by page when `n` is given. */
async function catalog(user: string, password: string, n?: number): Promise<{ repositories: string[]; pages: number }> {
  const auth = { authorization: `Bearer ${await token(user, password, 'registry:catalog:*')}` };
  const repositories: string[] = [];
  let path: string | undefined = n === undefined ? '/v2/_catalog' : `/v2/_catalog?n=${n}`;
  let pages = 0;
  while (path !== undefined) {
    const r = await fetch(`${reg.url}${path}`, { headers: auth });
    expect(r.status, path).toBe(200);
    const page = (await r.json()) as { repositories: string[] };
    if (n !== undefined) expect(page.repositories.length).toBeLessThanOrEqual(n);
    repositories.push(...page.repositories);
    pages++;
    path = /^<([^>]+)>; rel="next"$/.exec(r.headers.get('link') ?? '')?.[1];
  }
  return { repositories, pages };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'catalog-filter-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await addUser(store, 'root', PASSWORD, true);
  await addUser(store, 'dev', PASSWORD, false);
  await addUser(store, 'outsider', PASSWORD, false);
  await addUser(store, 'leaver', PASSWORD, false);
  await createProject(store, 'pub', true);
  await createProject(store, 'team', false);
  await createProject(store, 'other', false);
  await setMember(store, 'team', 'dev', 'developer');
  await setMember(store, 'other', 'leaver', 'guest');
  const made = await createRobot(store, 'team', 'reader', { actions: ['pull'], repositories: ['team/app'] });
  robot = { name: made.robot.name, secret: made.secret };
  store.close();
  reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  service = /service="([^"]+)"/.exec((await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '')![1]!;
  for (const repo of REPOS) {
    const auth = { authorization: `Bearer ${await token('root', PASSWORD, `repository:${repo}:pull,push`)}` };
    expect((await pushTinyImage(reg.url, repo, 'v1', auth)).put.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the catalog with auth on', () => {
  it('a system administrator sees every repository', async () => {
    expect((await catalog('root', PASSWORD)).repositories).toEqual(REPOS);
  });

  it('a member sees the public projects and its own, a stranger only the public ones, a robot its patterns', async () => {
    expect((await catalog('dev', PASSWORD)).repositories).toEqual(['pub/app', 'team/app', 'team/tool']);
    expect((await catalog('outsider', PASSWORD)).repositories).toEqual(['pub/app']);
    expect((await catalog(robot.name, robot.secret)).repositories).toEqual(['pub/app', 'team/app']);
  });

  it('pages hold at most n of what the caller may see, and walking the Links gives the whole filtered list', async () => {
    const paged = await catalog('dev', PASSWORD, 1);
    expect(paged.repositories).toEqual(['pub/app', 'team/app', 'team/tool']);
    expect(paged.pages).toBeGreaterThanOrEqual(3);
    expect((await catalog('outsider', PASSWORD, 1)).repositories).toEqual(['pub/app']);
  });

  it('anonymous callers get no catalog token scope, and a token of an account disabled since is refused', async () => {
    const anon = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=registry:catalog:*`);
    expect(anon.status).toBe(200);
    const anonToken = ((await anon.json()) as { token: string }).token;
    expect((await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${anonToken}` } })).status).toBe(401);

    const issued = await token('leaver', PASSWORD, 'registry:catalog:*');
    const before = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${issued}` } });
    expect(((await before.json()) as { repositories: string[] }).repositories).toEqual(['other/secret', 'pub/app']);
    const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
    try {
      await setDisabled(store, 'leaver', true);
    } finally {
      store.close();
    }
    const after = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${issued}` } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNAUTHORIZED');
  });
});
