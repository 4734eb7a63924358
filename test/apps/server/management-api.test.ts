// The management API on `npm start` (SQLite identities and metadata), auth on: the shared cases of
// test/support/management-scenario.ts, quota-scenario.ts and repository-summary-scenario.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { AUDIT_DB, SqliteAuditLog } from '../../../functions/adapters/sqlite/sqlite-audit.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { quotaScenario } from '../../support/quota-scenario.ts';
import { managementScenario } from '../../support/management-scenario.ts';
import { PASSWORD, seedIdentities } from '../../support/management-client.ts';
import { recordPulls, repositorySummaryScenario } from '../../support/repository-summary-scenario.ts';
import { pushTinyImage } from '../../support/tiny-image.ts';

let dir: string;
let reg: RunningRegistry;
let seeded: { robotSecret: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'management-api-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  seeded = await seedIdentities(store);
  store.close();
  reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

managementScenario(() => reg, () => seeded);
quotaScenario(() => reg);
repositorySummaryScenario(() => reg, async (repository, count) => {
  // The server's own audit database, opened a second time (WAL), as the admin CLI does.
  const store = new SqliteAuditLog(join(dir, AUDIT_DB));
  try {
    await recordPulls(store, repository, count);
  } finally {
    store.close();
  }
});

describe('the management API in the audit trail', () => {
  it('each change made through it is an entry under the signed-in caller, from the client address; a refused one none', async () => {
    const service = /service="([^"]+)"/.exec((await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '')![1]!;
    const token = async (user: string) => {
      const res = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent('registry:management:*')}`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const call = async (method: string, path: string, bearer: string, body?: unknown) =>
      (await fetch(`${reg.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })).status;
    const alice = await token('alice');
    const bob = await token('bob');
    expect(await call('PUT', '/projects/other/members/dana', bob, { role: 'guest' })).toBe(403);
    expect(await call('PUT', '/projects/team/members/audited', alice, { role: 'guest' })).toBe(404);
    expect(await call('PUT', '/projects/team/members/carol', alice, { role: 'guest' })).toBe(200);
    expect(await call('DELETE', '/projects/team/members/carol', alice)).toBe(204);
    const audit = new SqliteAuditLog(join(dir, AUDIT_DB));
    try {
      const mine = (await audit.list({ project: 'team', limit: 1000 })).filter((e) => e.target === 'carol' && e.action.startsWith('admin.member.'));
      expect(mine.map((e) => [e.action, e.actor])).toEqual(expect.arrayContaining([['admin.member.set', 'alice'], ['admin.member.remove', 'alice']]));
      for (const e of mine) expect(e.address).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
      expect((await audit.list({ project: 'other', limit: 1000 })).some((e) => e.actor === 'bob')).toBe(false);
    } finally {
      audit.close();
    }
  });
});

describe('every management listing pages', () => {
  it('members, robots, trust rules, access tokens and repositories: n=1 gives one item and a Link to the next; /whoami lists a user\'s projects in name order', async () => {
    const service = /service="([^"]+)"/.exec((await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '')![1]!;
    const token = async (user: string, scope: string) => {
      const res = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const root = await token('root', 'registry:management:*');
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${reg.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${root}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, link: res.headers.get('link'), body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    expect((await call('POST', '/projects', { name: 'paged' })).status).toBe(201);
    for (const user of ['bob', 'carol']) expect((await call('PUT', `/projects/paged/members/${user}`, { role: 'guest' })).status).toBe(200);
    for (const name of ['r1', 'r2']) expect((await call('POST', '/projects/paged/robots', { name, actions: ['pull'] })).status).toBe(201);
    for (const id of ['1', '2']) expect((await call('POST', '/projects/paged/trust-rules', { github: `acme/app${id}`, ownerId: '101', repositoryId: `20${id}` })).status).toBe(201);
    for (const name of ['t1', 't2']) expect((await call('POST', '/users/root/tokens', { name })).status).toBe(201);
    const push = { authorization: `Bearer ${await token('root', 'repository:paged/a:pull,push repository:paged/b:pull,push')}` };
    for (const repo of ['paged/a', 'paged/b']) expect((await pushTinyImage(reg.url, repo, 'v1', push)).put.status).toBe(201);

    for (const [path, key, first] of [
      ['/projects/paged/members', 'members', 'bob'],
      ['/projects/paged/robots', 'robots', 'robot$paged+r1'],
      ['/projects/paged/trust-rules', 'rules', undefined],
      ['/users/root/tokens', 'tokens', 't1'],
      ['/projects/paged/repositories', 'repositories', 'paged/a'],
    ] as const) {
      const page = await call('GET', `${path}?n=1`);
      expect(page.status, path).toBe(200);
      const items = page.body[key] as Record<string, string>[];
      expect(items, path).toHaveLength(1);
      const last = first ?? items[0]!.id!;
      if (first !== undefined) expect(Object.values(items[0]!), path).toContain(first);
      expect(page.link, path).toBe(`</api/v1${path}?n=1&last=${encodeURIComponent(last)}>; rel="next"`);
      const rest = await call('GET', `${path}?n=100&last=${encodeURIComponent(last)}`);
      expect(rest.body[key], path).toHaveLength(1);
      expect(rest.link, path).toBeNull();
    }
    const carol = await token('carol', 'registry:management:*');
    const me = await fetch(`${reg.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${carol}` } });
    expect(((await me.json()) as { projects: { project: string }[] }).projects.map((p) => p.project)).toEqual(['other', 'paged']);
  });
});
