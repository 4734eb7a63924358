// The token endpoint through the registry (issue 15): GET with Basic credentials and the OAuth2
// form POST, refresh tokens, the grant intersection, and failed-login throttling.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, setMember } from '../../../functions/core/auth/admin.ts';
import { TokenService } from '../../../functions/core/auth/jwt.ts';
import { MemoryLoginThrottle } from '../../../functions/core/auth/login-throttle.ts';
import { TokenAuthorizer } from '../../../functions/core/auth/token-authorizer.ts';
import { tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';
import type { IdentityStore } from '../../../functions/core/auth/identity-store.ts';
import { createRegistry } from '../../../functions/core/registry.ts';
import { TokenSigner } from '../../../functions/core/tokens.ts';
import type { RegistryRequest } from '../../../functions/core/http.ts';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import type { BlobStore } from '../../../functions/core/ports.ts';

const PASSWORD = 'a long enough password';

async function setup(limits = { windowMs: 60_000, perUser: 3, perAddress: 5 }) {
  const store = new SqliteIdentityStore(':memory:');
  await addUser(store, 'alice', PASSWORD, false);
  await createProject(store, 'team', false);
  await setMember(store, 'team', 'alice', 'developer');
  let userReads = 0;
  const counted = new Proxy(store, {
    get: (target, key) => {
      if (key === 'getUser') return (n: string) => (userReads++, target.getUser(n));
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as IdentityStore;
  const tokens = new TokenService(tokenKeysFrom([randomBytes(32)]), { issuer: 'reg', service: 'reg', refreshTokenSeconds: 3600 });
  // The token endpoint reads neither: a real metadata store, and no blob store at all.
  const registry = createRegistry({
    metadata: new SqliteMetadataStore(':memory:'), blobs: {} as BlobStore, uploadTokens: new TokenSigner(randomBytes(32)),
    authorizer: new TokenAuthorizer(tokens, { realm: 'http://reg/token', service: 'reg' }),
    auth: { store: counted, tokens, throttle: new MemoryLoginThrottle(limits) },
  });
  return { registry, tokens, reads: () => userReads };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const get = (query: string, headers: Record<string, string> = {}, clientAddress = '192.0.2.1'): RegistryRequest =>
  ({ method: 'GET', path: '/token', query: new URLSearchParams(query), headers, clientAddress });
const post = (form: Record<string, string>, clientAddress = '192.0.2.1'): RegistryRequest => {
  const body = Buffer.from(new URLSearchParams(form).toString());
  return { method: 'POST', path: '/token', query: new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body: (async function* () { yield body; })(), clientAddress };
};
const json = (body: unknown) => JSON.parse(String(body)) as Record<string, unknown>;

describe('token endpoint', () => {
  it('GET with Basic: the intersection of asked and allowed, a refresh token with offline_token=true only', async () => {
    const { registry, tokens } = await setup();
    const r = await registry(get('service=reg&scope=repository:team/app:pull,push,delete&offline_token=true', { authorization: basic('alice', PASSWORD) }));
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = json(r.body);
    expect(body.expires_in).toBe(300);
    expect((await tokens.verifyAccess(String(body.token))).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    expect((await tokens.verifyRefresh(String(body.refresh_token))).sub).toBe('alice');
    const plain = json((await registry(get('service=reg', { authorization: basic('alice', PASSWORD) }))).body);
    expect(plain.refresh_token).toBeUndefined();
  });

  it('anonymous: a token with nothing granted on a private project; a wrong service is refused', async () => {
    const { registry, tokens } = await setup();
    const body = json((await registry(get('service=reg&scope=repository:team/app:pull'))).body);
    expect((await tokens.verifyAccess(String(body.token))).access).toEqual([]);
    expect((await registry(get('service=other'))).status).toBe(400);
  });

  it('POST: the password grant, then the refresh_token grant (what docker does with its identity token)', async () => {
    const { registry, tokens } = await setup();
    const first = json((await registry(post({ grant_type: 'password', username: 'alice', password: PASSWORD, service: 'reg', scope: 'repository:team/app:pull', access_type: 'offline', client_id: 'docker' }))).body);
    const refreshed = await registry(post({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token), service: 'reg', scope: 'repository:team/app:push', client_id: 'docker' }));
    expect(refreshed.status).toBe(200);
    expect((await tokens.verifyAccess(String(json(refreshed.body).access_token))).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['push'] }]);
    const bad = await registry(post({ grant_type: 'refresh_token', refresh_token: 'x.y.z', service: 'reg' }));
    expect(bad.status).toBe(401);
    expect(json(bad.body).error).toBe('invalid_grant');
    expect((await registry(post({ grant_type: 'client_credentials' }))).status).toBe(400);
  });

  it('failed logins: past the limit per user, 429 with Retry-After before the password is even looked at; other users go on', async () => {
    const { registry, reads } = await setup();
    for (let i = 0; i < 3; i++) expect((await registry(get('service=reg', { authorization: basic('alice', `wrong password ${i}`) }, `198.51.100.${i}`))).status).toBe(401);
    const before = reads();
    const blocked = await registry(get('service=reg', { authorization: basic('alice', PASSWORD) }, '198.51.100.9'));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(json(blocked.body)).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS' }] });
    expect(reads()).toBe(before);
    // The form POST is throttled alike.
    expect((await registry(post({ grant_type: 'password', username: 'alice', password: PASSWORD, service: 'reg' }))).status).toBe(429);
  });

  it('failed logins: past the limit per address, every name from it waits', async () => {
    const { registry } = await setup({ windowMs: 60_000, perUser: 100, perAddress: 2 });
    for (const name of ['x1', 'x2']) await registry(get('service=reg', { authorization: basic(name, 'whatever password') }, '203.0.113.5'));
    expect((await registry(get('service=reg', { authorization: basic('alice', PASSWORD) }, '203.0.113.5'))).status).toBe(429);
    expect((await registry(get('service=reg', { authorization: basic('alice', PASSWORD) }, '203.0.113.6'))).status).toBe(200);
  });

  it('20 parallel correct logins all succeed (successes are not counted)', async () => {
    const { registry } = await setup();
    const batch = () => Promise.all(Array.from({ length: 20 }, () => registry(get('service=reg&scope=repository:team/app:pull', { authorization: basic('alice', PASSWORD) }))));
    expect((await batch()).map((r) => r.status)).toEqual(Array(20).fill(200));
    // Once the first 20 have answered (had they been counted, the user would be far past the limit of 3), 20 more.
    expect((await batch()).map((r) => r.status)).toEqual(Array(20).fill(200));
  });
});
