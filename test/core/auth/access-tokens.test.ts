// Personal access tokens (issue 15 item 2): created with a name and expiry, shown once, listed,
// revoked; the password of `docker login` (GET with Basic) and of the form POST; refresh tokens made
// from one stop with it; users who sign in elsewhere have no password here at all.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { createAccessToken, publicAccessToken, revokeAccessToken } from '../../../functions/core/auth/access-tokens.ts';
import { addUser, AdminError, createProject, setDisabled, setMember } from '../../../functions/core/auth/admin.ts';
import { TokenService } from '../../../functions/core/auth/jwt.ts';
import { MemoryLoginThrottle } from '../../../functions/core/auth/login-throttle.ts';
import { TokenAuthorizer } from '../../../functions/core/auth/token-authorizer.ts';
import { tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';
import type { RegistryRequest } from '../../../functions/core/http.ts';
import type { BlobStore } from '../../../functions/core/ports.ts';
import { createRegistry } from '../../../functions/core/registry.ts';
import { TokenSigner } from '../../../functions/core/tokens.ts';

const DAY = 86_400_000;

async function setup() {
  const clock = { now: Date.now() };
  const store = new SqliteIdentityStore(':memory:');
  await addUser(store, 'sso-user', undefined, false);
  await createProject(store, 'team', false);
  await setMember(store, 'team', 'sso-user', 'developer');
  const tokens = new TokenService(tokenKeysFrom([randomBytes(32)]), { issuer: 'reg', service: 'reg', refreshTokenSeconds: 30 * 86_400 });
  const registry = createRegistry({
    metadata: new SqliteMetadataStore(':memory:'), blobs: {} as BlobStore, uploadTokens: new TokenSigner(randomBytes(32)),
    authorizer: new TokenAuthorizer(tokens, { realm: 'http://reg/token', service: 'reg' }),
    auth: { store, tokens, throttle: new MemoryLoginThrottle({ windowMs: 60_000, perUser: 100, perAddress: 100 }) },
    now: () => clock.now,
  });
  return { store, tokens, registry, clock };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const get = (user: string, password: string): RegistryRequest =>
  ({ method: 'GET', path: '/token', query: new URLSearchParams('service=reg&scope=repository:team/app:pull,push&offline_token=true'), headers: { authorization: basic(user, password) }, clientAddress: '192.0.2.1' });
const post = (form: Record<string, string>): RegistryRequest => {
  const body = Buffer.from(new URLSearchParams({ service: 'reg', ...form }).toString());
  return { method: 'POST', path: '/token', query: new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body: (async function* () { yield body; })(), clientAddress: '192.0.2.1' };
};
const json = (body: unknown) => JSON.parse(String(body)) as Record<string, unknown>;

describe('personal access tokens', () => {
  it('created with a name and expiry, the secret shown once (only its hash kept), listed without it', async () => {
    const { store } = await setup();
    const { token, text } = await createAccessToken(store, 'sso-user', 'laptop', '30d', 1000);
    expect(text).toMatch(/^pat\.laptop\.[\w-]{43}$/);
    expect(token.expiresAt).toBe(1000 + 30 * DAY);
    const stored = JSON.stringify(await store.listAccessTokens('sso-user'));
    expect(stored).not.toContain(text.split('.')[2]);
    expect(publicAccessToken(token)).toEqual({ user: 'sso-user', name: 'laptop', expiresAt: new Date(1000 + 30 * DAY).toISOString(), revoked: false, created: new Date(1000).toISOString() });
    expect(publicAccessToken((await createAccessToken(store, 'sso-user', 'forever', 'never')).token).expiresAt).toBe('never');
    await expect(createAccessToken(store, 'sso-user', 'laptop', undefined)).rejects.toThrow(/already/);
    await expect(createAccessToken(store, 'nobody', 'x', undefined)).rejects.toBeInstanceOf(AdminError);
    await expect(createAccessToken(store, 'sso-user', 'Bad Name', undefined)).rejects.toBeInstanceOf(AdminError);
  });

  it('the password of docker login (GET) and of the form POST; a user without a password cannot log in with one', async () => {
    const { store, tokens, registry } = await setup();
    const { text } = await createAccessToken(store, 'sso-user', 'ci', '90d');
    const r = await registry(get('sso-user', text));
    expect(r.status).toBe(200);
    expect((await tokens.verifyAccess(String(json(r.body).token))).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    const p = await registry(post({ grant_type: 'password', username: 'sso-user', password: text, scope: 'repository:team/app:pull' }));
    expect(p.status).toBe(200);
    // Another user's name with this token, a wrong secret, an empty password: refused.
    await addUser(store, 'bob', 'a long enough password', false);
    expect((await registry(get('bob', text))).status).toBe(401);
    expect((await registry(get('sso-user', `${text.slice(0, -1)}${text.endsWith('A') ? 'B' : 'A'}`))).status).toBe(401);
    expect((await registry(get('sso-user', ''))).status).toBe(401);
    expect((await registry(get('sso-user', 'pat.nope.0123456789012345678901234567890123456789012'))).status).toBe(401);
  });

  it('revoked, expired, or its user disabled: refused, and so are refresh tokens made from it', async () => {
    const { store, registry, clock } = await setup();
    const { text } = await createAccessToken(store, 'sso-user', 'ci', '1d', clock.now);
    const refresh = String(json((await registry(get('sso-user', text))).body).refresh_token);
    const refreshGrant = () => registry(post({ grant_type: 'refresh_token', refresh_token: refresh, scope: 'repository:team/app:pull' }));
    expect((await refreshGrant()).status).toBe(200);
    await revokeAccessToken(store, 'sso-user', 'ci');
    expect((await registry(get('sso-user', text))).status).toBe(401);
    expect((await refreshGrant()).status).toBe(401);

    const second = await createAccessToken(store, 'sso-user', 'ci2', '1d', clock.now);
    const r2 = json((await registry(get('sso-user', second.text))).body);
    // A refresh token lives no longer than the access token it came from.
    clock.now += DAY + 1000;
    expect((await registry(get('sso-user', second.text))).status).toBe(401);
    expect((await registry(post({ grant_type: 'refresh_token', refresh_token: String(r2.refresh_token) }))).status).toBe(401);

    const third = await createAccessToken(store, 'sso-user', 'ci3', 'never', clock.now);
    expect((await registry(get('sso-user', third.text))).status).toBe(200);
    await setDisabled(store, 'sso-user', true);
    expect((await registry(get('sso-user', third.text))).status).toBe(401);
  });
});
