// The management API on `npm start` (SQLite identities and metadata), auth on: the shared cases of
// test/support/management-scenario.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { AUDIT_DB, SqliteAuditLog } from '../../../functions/adapters/sqlite/sqlite-audit.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { managementScenario, PASSWORD, seedIdentities } from '../../support/management-scenario.ts';

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
