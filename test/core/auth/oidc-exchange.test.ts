// Keyless CI through the token endpoint (issue 15 item 3): a GitHub Actions ID token, from a local
// issuer standing in for GitHub's, exchanged with `docker login -u oidc` (Basic) and the OAuth2 form
// POST; the security matrix's GitHub cases; a refresh after the ID token expired, capped by the rule.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoveredIssuerKeys, githubActionsVerifier } from '../../../functions/adapters/oidc/discovered-keys.ts';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { createProject } from '../../../functions/core/auth/admin.ts';
import { TokenService } from '../../../functions/core/auth/jwt.ts';
import { MemoryLoginThrottle } from '../../../functions/core/auth/login-throttle.ts';
import { GITHUB_ISSUER, OidcVerifier } from '../../../functions/core/auth/oidc.ts';
import { TokenAuthorizer } from '../../../functions/core/auth/token-authorizer.ts';
import { tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';
import { addTrustRule, removeTrustRule } from '../../../functions/core/auth/trust-rules.ts';
import type { RegistryRequest } from '../../../functions/core/http.ts';
import type { BlobStore } from '../../../functions/core/ports.ts';
import { createRegistry } from '../../../functions/core/registry.ts';
import { TokenSigner } from '../../../functions/core/tokens.ts';
import { startIssuer, type TestIssuer } from '../../support/oidc-issuer.ts';

const SERVICE = 'registry.example.com';
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startIssuer({ audience: SERVICE });
});
afterAll(() => issuer.close());

async function setup(verifier = githubActionsVerifier(SERVICE, issuer.url), clock: { now: number } | undefined = undefined) {
  const store = new SqliteIdentityStore(':memory:');
  await createProject(store, 'team', false);
  await createProject(store, 'other', false);
  const rule = await addTrustRule(store, 'team', { github: 'octo-org/app', ownerId: '1001', repositoryId: '2002', ref: 'main', actions: ['pull', 'push'], maxSeconds: 600 });
  const tokens = new TokenService(tokenKeysFrom([randomBytes(32)]), { issuer: SERVICE, service: SERVICE, refreshTokenSeconds: 30 * 86_400 });
  const registry = createRegistry({
    metadata: new SqliteMetadataStore(':memory:'), blobs: {} as BlobStore, uploadTokens: new TokenSigner(randomBytes(32)),
    authorizer: new TokenAuthorizer(tokens, { realm: `https://${SERVICE}/token`, service: SERVICE }),
    auth: { store, tokens, throttle: new MemoryLoginThrottle(), oidc: verifier },
    ...(clock ? { now: () => clock.now } : {}),
  });
  return { registry, tokens, store, rule };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const login = (idToken: string, scope = 'repository:team/app:pull,push', extra = '&offline_token=true&client_id=docker'): RegistryRequest =>
  ({ method: 'GET', path: '/token', query: new URLSearchParams(`service=${SERVICE}&scope=${scope}${extra}`), headers: { authorization: basic('oidc', idToken) } });
const post = (form: Record<string, string>): RegistryRequest => {
  const body = Buffer.from(new URLSearchParams({ service: SERVICE, ...form }).toString());
  return { method: 'POST', path: '/token', query: new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body: (async function* () { yield body; })() };
};
const json = (body: unknown) => JSON.parse(String(body)) as Record<string, unknown>;

describe('keyless CI: exchanging a GitHub Actions ID token', () => {
  it('docker login -u oidc (GET, Basic): the rule\'s actions on its project, nothing elsewhere; a refresh token capped by the rule', async () => {
    const { registry, tokens } = await setup();
    const now = Date.now();
    const r = await registry(login(await issuer.idToken(), 'repository:team/app:pull,push,delete&scope=repository:other/app:pull'));
    expect(r.status).toBe(200);
    const body = json(r.body);
    const access = await tokens.verifyAccess(String(body.token));
    expect(access.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    expect(access.sub).toBe('oidc:octo-org/app#2002');
    const refresh = await tokens.verifyRefresh(String(body.refresh_token));
    // The rule's 10 minutes, not the registry's 30 days.
    expect(refresh.exp - Math.floor(now / 1000)).toBeGreaterThanOrEqual(599);
    expect(refresh.exp - Math.floor(now / 1000)).toBeLessThanOrEqual(601);
  });

  it('the OAuth2 form POST (password grant, username oidc) works the same', async () => {
    const { registry, tokens } = await setup();
    const r = await registry(post({ grant_type: 'password', username: 'oidc', password: await issuer.idToken(), scope: 'repository:team/app:push', access_type: 'offline', client_id: 'docker' }));
    expect(r.status).toBe(200);
    expect((await tokens.verifyAccess(String(json(r.body).access_token))).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['push'] }]);
    const bad = await registry(post({ grant_type: 'password', username: 'oidc', password: await issuer.idToken({ ref: 'refs/heads/dev' }) }));
    expect(bad.status).toBe(401);
    expect(json(bad.body)).toMatchObject({ error: 'invalid_grant' });
    expect(String(json(bad.body).error_description)).toMatch(/ref "refs\/heads\/dev" does not match "refs\/heads\/main"/);
  });

  it('a push after the ID token expired: the refresh token still works, until the rule\'s cap, and is never extended', async () => {
    const clock = { now: Date.now() };
    const { registry, tokens } = await setup(undefined, clock);
    const idToken = await issuer.idToken();
    const first = json((await registry(login(idToken))).body);
    // Six minutes later the ID token has expired: it cannot log in again...
    clock.now += 6 * 60_000;
    expect((await registry(login(idToken))).status).toBe(401);
    // ...but the refresh token docker stored at login can push.
    const refreshed = await registry(post({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token), scope: 'repository:team/app:pull,push', access_type: 'offline', client_id: 'docker' }));
    expect(refreshed.status).toBe(200);
    const again = json(refreshed.body);
    expect((await tokens.verifyAccess(String(again.access_token), clock.now)).access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    // A refresh token made from a refresh token keeps the first one's expiry.
    expect((await tokens.verifyRefresh(String(again.refresh_token), clock.now)).exp).toBe((await tokens.verifyRefresh(String(first.refresh_token))).exp);
    // Past the rule's 10 minutes, either refresh token is refused.
    clock.now += 5 * 60_000;
    for (const t of [first.refresh_token, again.refresh_token]) {
      expect((await registry(post({ grant_type: 'refresh_token', refresh_token: String(t), scope: 'repository:team/app:push' }))).status).toBe(401);
    }
  });

  it('the refresh grant as containers/image sends it (scope repeated, not space-separated): every scope granted', async () => {
    const { registry, tokens } = await setup();
    const first = json((await registry(login(await issuer.idToken()))).body);
    const form = `grant_type=refresh_token&refresh_token=${String(first.refresh_token)}&client_id=containers%2Fimage&service=${SERVICE}&scope=repository%3Ateam%2Fapp%3Apull%2Cpush&scope=repository%3Ateam%2Fbase%3Apull`;
    const body = Buffer.from(form);
    const r = await registry({ method: 'POST', path: '/token', query: new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body: (async function* () { yield body; })() });
    expect(r.status).toBe(200);
    expect((await tokens.verifyAccess(String(json(r.body).access_token))).access).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'team/base', actions: ['pull'] },
    ]);
  });

  it('removing the rule stops its refresh tokens at once', async () => {
    const { registry, store, rule } = await setup();
    const first = json((await registry(login(await issuer.idToken()))).body);
    await removeTrustRule(store, 'team', rule.id);
    expect((await registry(post({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token), scope: 'repository:team/app:push' }))).status).toBe(401);
  });

  it('refusals: another owner with the same name, a fork\'s pull request, a wrong ref, expired, wrong aud, wrong issuer, unknown kid, foreign key, alg none', async () => {
    const { registry } = await setup();
    const { privateKey: foreign } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases: Record<string, [string, RegExp]> = {
      'same name, another owner': [await issuer.idToken({ repository_owner_id: '666', repository_id: '667' }), /no trust rule accepts/],
      'fork pull request': [await issuer.idToken({ event_name: 'pull_request_target', ref: 'refs/heads/main', head_ref: 'patch-1' }), /pull request event \(pull_request_target\)/],
      'pull request': [await issuer.idToken({ event_name: 'pull_request', ref: 'refs/pull/3/merge' }), /pull request event \(pull_request\)/],
      'wrong ref': [await issuer.idToken({ ref: 'refs/heads/feature' }), /ref "refs\/heads\/feature" does not match/],
      expired: [await issuer.idToken({}, { issuedAgo: 400, seconds: 300 }), /"exp" claim/],
      'not yet valid': [await issuer.idToken({}, { issuedAgo: -120 }), /"nbf" claim|"iat" claim/],
      'wrong aud': [await issuer.idToken({ aud: 'https://github.com/octo-org' }), /"aud" claim/],
      'wrong issuer': [await issuer.idToken({ iss: 'https://token.actions.evil.example' }), /issuer "https:\/\/token.actions.evil.example" is not trusted/],
      'unknown kid': [await issuer.idToken({}, { kid: 'k9' }), /no key "k9"/],
      'signed by another key': [await issuer.idToken({}, { key: foreign }), /signature verification failed/],
      'alg none': [`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: GITHUB_ISSUER, aud: SERVICE, repository_owner_id: '1001', repository_id: '2002', event_name: 'push', ref: 'refs/heads/main', exp: Math.floor(Date.now() / 1000) + 60, iat: 1, sub: 'x' })).toString('base64url')}.AAAA`, /"alg" .*not allowed/],
      'not a JWT': ['a-password', /not a JWT/],
    };
    for (const [name, [token, why]] of Object.entries(cases)) {
      const r = await registry(login(token));
      expect({ name, status: r.status }).toEqual({ name, status: 401 });
      const error = JSON.parse(String(r.body)).errors[0];
      expect(error.code).toBe('UNAUTHORIZED');
      expect({ name, reason: error.detail.reason }).toEqual({ name, reason: expect.stringMatching(why) });
    }
  });

  it('an unreachable issuer: a quick 503 with Retry-After, not a hang; keys are fetched once, not per exchange', async () => {
    const dead = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const { registry } = await setup(githubActionsVerifier(SERVICE, `http://127.0.0.1:${dead}`));
    const started = Date.now();
    const r = await registry(login(await issuer.idToken()));
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(JSON.parse(String(r.body)).errors[0].detail.reason).toMatch(/could not be reached/);
    expect(Date.now() - started).toBeLessThan(3000);

    // A silent issuer (accepts, never answers) is cut off at the fetch timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const keys = new DiscoveredIssuerKeys(new Map([[GITHUB_ISSUER, `http://127.0.0.1:${(silent.address() as { port: number }).port}`]]), { timeoutMs: 300 });
      const slow = await setup(new OidcVerifier(SERVICE, keys));
      const t0 = Date.now();
      expect((await slow.registry(login(await issuer.idToken()))).status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      silent.close();
    }

    const warm = await setup();
    const before = issuer.fetches();
    for (let i = 0; i < 5; i++) expect((await warm.registry(login(await issuer.idToken()))).status).toBe(200);
    const after = issuer.fetches();
    expect(after.discovery - before.discovery).toBe(1);
    expect(after.jwks - before.jwks).toBe(1);
  });

  it('no OIDC verifier configured: -u oidc is an ordinary failed login', async () => {
    const store = new SqliteIdentityStore(':memory:');
    const tokens = new TokenService(tokenKeysFrom([randomBytes(32)]), { issuer: SERVICE, service: SERVICE, refreshTokenSeconds: 3600 });
    const registry = createRegistry({
      metadata: new SqliteMetadataStore(':memory:'), blobs: {} as BlobStore, uploadTokens: new TokenSigner(randomBytes(32)),
      authorizer: new TokenAuthorizer(tokens, { realm: 'x', service: SERVICE }), auth: { store, tokens, throttle: new MemoryLoginThrottle() },
    });
    expect((await registry(login(await issuer.idToken()))).status).toBe(401);
  });
});
