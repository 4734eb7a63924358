// The refusals of token auth, one case each (issue 15): every forged, stale, misdirected or
// insufficient credential the registry or the token endpoint must turn away.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import type { Access } from '../../../functions/core/access.ts';
import { addUser, createProject, createRobot, revokeRobot, rotateRobot, setDisabled, setMember } from '../../../functions/core/auth/admin.ts';
import { AuthenticationError, byPassword, byRefreshToken } from '../../../functions/core/auth/authenticate.ts';
import { grantsFor, pullFilter } from '../../../functions/core/auth/grants.ts';
import { TokenService } from '../../../functions/core/auth/jwt.ts';
import { parseScopes } from '../../../functions/core/auth/scopes.ts';
import { TokenAuthorizer } from '../../../functions/core/auth/token-authorizer.ts';
import { deriveTokenKey, tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';
import type { RegistryRequest } from '../../../functions/core/http.ts';

const SETTINGS = { issuer: 'reg', service: 'reg', refreshTokenSeconds: 3600 };
const AUTH = { realm: 'https://reg.example/token', service: 'reg' };
const seed = randomBytes(32);
const tokens = new TokenService(tokenKeysFrom([seed]), SETTINGS);
const authorizer = new TokenAuthorizer(tokens, AUTH);
const PASSWORD = 'a long enough password';
const store = new SqliteIdentityStore(':memory:');
const pullA: Access = { type: 'repository', name: 'team/a', actions: ['pull'] };
const pushA: Access = { type: 'repository', name: 'team/a', actions: ['push'] };

const req = (token?: string): RegistryRequest => ({ method: 'GET', path: '/v2/', query: new URLSearchParams(), headers: token ? { authorization: `Bearer ${token}` } : {} });
const refused = async (token: string | undefined, access: Access[] = [pullA]) => {
  const d = await authorizer.authorize(req(token), access);
  expect(d.allowed).toBe(false);
  return d.allowed ? '' : String(d.challenge);
};
const grant = (name: string, actions: string[]) => [{ type: 'repository' as const, name, actions }];

beforeAll(async () => {
  await addUser(store, 'alice', PASSWORD, false);
  await addUser(store, 'root', PASSWORD, true);
  await createProject(store, 'team', false);
  await setMember(store, 'team', 'alice', 'guest');
});

describe('access tokens the registry refuses', () => {
  it('a valid token for the access passes (the control case)', async () => {
    const d = await authorizer.authorize(req(await tokens.issueAccess('alice', grant('team/a', ['pull']))), [pullA]);
    expect(d.allowed).toBe(true);
  });

  it('no token: 401 with the realm, service and scope', async () => {
    expect(await refused(undefined)).toBe('Bearer realm="https://reg.example/token",service="reg",scope="repository:team/a:pull"');
  });

  it('expired, and not yet valid', async () => {
    expect(await refused(await tokens.issueAccess('alice', grant('team/a', ['pull']), Date.now() - 3_600_000))).toContain('error="invalid_token"');
    expect(await refused(await tokens.issueAccess('alice', grant('team/a', ['pull']), Date.now() + 3_600_000))).toContain('error="invalid_token"');
  });

  it('wrong audience, wrong issuer, another environment\'s key', async () => {
    for (const other of [new TokenService(tokenKeysFrom([seed]), { ...SETTINGS, service: 'other' }), new TokenService(tokenKeysFrom([seed]), { ...SETTINGS, issuer: 'other' }), new TokenService(tokenKeysFrom([randomBytes(32)]), SETTINGS)]) {
      expect(await refused(await other.issueAccess('alice', grant('team/a', ['pull'])))).toContain('invalid_token');
    }
  });

  it('an unknown kid, alg none, HS256 with the public key as secret, a tampered signature or payload', async () => {
    const key = deriveTokenKey(seed);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'alice', access: grant('team/a', ['pull', 'push']), token_use: 'access' };
    const base = (h: Record<string, string>) => new SignJWT(claims).setProtectedHeader(h as never).setIssuer('reg').setAudience('reg').setIssuedAt(now).setNotBefore(now - 1).setExpirationTime(now + 60);
    expect(await refused(await base({ alg: 'ES256', kid: 'unknown' }).sign(key.privateKey))).toContain('invalid_token');
    expect(await refused(new UnsecuredJWT(claims).setIssuer('reg').setAudience('reg').setIssuedAt(now).setNotBefore(now - 1).setExpirationTime(now + 60).encode())).toContain('invalid_token');
    const hs = await base({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(key.publicKey.export({ format: 'pem', type: 'spki' }).toString()));
    expect(await refused(hs)).toContain('invalid_token');
    const good = await tokens.issueAccess('alice', grant('team/a', ['pull']));
    const [h, p, s] = good.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('A') ? 'BA' : 'AA'}`;
    expect(await refused(flipped)).toContain('invalid_token');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), access: grant('team/a', ['pull', 'push']) })).toString('base64url')}.${s}`;
    expect(await refused(forged, [pushA])).toContain('invalid_token');
  });

  it('repo A\'s token on repo B, a pull token used to push, a refresh token used as an access token', async () => {
    const pull = await tokens.issueAccess('alice', grant('team/a', ['pull']));
    expect(await refused(pull, [{ type: 'repository', name: 'team/b', actions: ['pull'] }])).toContain('error="insufficient_scope"');
    expect(await refused(pull, [pushA])).toContain('error="insufficient_scope"');
    expect(await refused(await tokens.issueRefresh('alice'))).toContain('invalid_token');
  });

  it('a mount needs pull on the source: the authorizer answers for the principal\'s token only', async () => {
    const d = await authorizer.authorize(req(await tokens.issueAccess('alice', grant('team/a', ['pull', 'push']))), [pullA]);
    if (!d.allowed) throw new Error('control case refused');
    expect(await authorizer.can(d.principal, { type: 'repository', name: 'team/secret', actions: ['pull'] })).toBe(false);
    expect(await authorizer.can(d.principal, pullA)).toBe(true);
  });
});

describe('what the token endpoint grants, and whom it refuses', () => {
  it('less than asked is granted, not refused; the catalog to users and robots (each sees what it may pull), never to anonymous callers or CI jobs', async () => {
    const alice = await byPassword(store, 'alice', PASSWORD);
    const catalog = { type: 'registry', name: 'catalog', actions: ['*'] };
    expect(await grantsFor(store, alice, parseScopes(['repository:team/a:pull,push,delete registry:catalog:*']))).toEqual([...grant('team/a', ['pull']), catalog]);
    const root = await byPassword(store, 'root', PASSWORD);
    expect(await grantsFor(store, root, parseScopes(['registry:catalog:*']))).toEqual([catalog]);
    expect(await grantsFor(store, { kind: 'anonymous' }, parseScopes(['repository:team/a:pull registry:catalog:*']))).toEqual([]);
    expect(await grantsFor(store, { kind: 'oidc', subject: 'repo:o/r', rules: [], until: 0 }, parseScopes(['registry:catalog:*']))).toEqual([]);
    const alicePulls = pullFilter(store, alice);
    expect([await alicePulls('team/a'), await alicePulls('team/secret-repo-of-nobody'), await alicePulls('elsewhere/x')]).toEqual([true, true, false]);
  });

  it('a wrong password, an unknown user (as slow as a wrong password), a disabled user', async () => {
    await expect(byPassword(store, 'alice', 'wrong password!!')).rejects.toBeInstanceOf(AuthenticationError);
    const t0 = performance.now();
    await expect(byPassword(store, 'nobody', PASSWORD)).rejects.toBeInstanceOf(AuthenticationError);
    const unknown = performance.now() - t0;
    const t1 = performance.now();
    await expect(byPassword(store, 'alice', `${PASSWORD}x`)).rejects.toBeInstanceOf(AuthenticationError);
    const wrong = performance.now() - t1;
    // Both pay one argon2id hash (tens of ms): an unknown name is not answered faster.
    expect(unknown).toBeGreaterThan(wrong / 3);
    await setDisabled(store, 'alice', true);
    await expect(byPassword(store, 'alice', PASSWORD)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(byRefreshToken(store, tokens, await tokens.issueRefresh('alice'))).rejects.toBeInstanceOf(AuthenticationError);
    await setDisabled(store, 'alice', false);
  });

  it('robots: revoked, expired, rotated secret; a refresh token of a revoked robot', async () => {
    const { robot, secret } = await createRobot(store, 'team', 'ci', { actions: ['pull'] });
    expect((await byPassword(store, robot.name, secret)).kind).toBe('robot');
    const refresh = await tokens.issueRefresh(robot.name);
    const rotated = await rotateRobot(store, robot.name);
    await expect(byPassword(store, robot.name, secret)).rejects.toBeInstanceOf(AuthenticationError);
    expect((await byPassword(store, robot.name, rotated.secret)).kind).toBe('robot');
    await revokeRobot(store, robot.name);
    await expect(byPassword(store, robot.name, rotated.secret)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(byRefreshToken(store, tokens, refresh)).rejects.toBeInstanceOf(AuthenticationError);
    const expired = await createRobot(store, 'team', 'old', { actions: ['pull'], expires: '1h' }, Date.now() - 7_200_000);
    await expect(byPassword(store, expired.robot.name, expired.secret)).rejects.toBeInstanceOf(AuthenticationError);
  });
});
