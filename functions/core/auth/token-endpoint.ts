// The token endpoint (distribution docs/spec/auth/token.md and oauth.md): GET with Basic credentials
// (or none: anonymous) and the OAuth2 form POST (`password` and `refresh_token` grants). Grants the
// intersection of the requested scopes and the caller's rights; `offline_token=true` (GET) or
// `access_type=offline` (POST) adds a refresh token, which `docker login` keeps instead of the password.
import { SHARED_CACHE_SECONDS } from '../shared-cache.ts';
import type { Operation } from '../context.ts';
import { RegistryError } from '../errors.ts';
import { header, jsonResponse, type RegistryRequest, type RegistryResponse } from '../http.ts';
import { readLimited } from '../read-body.ts';
import { AuthenticationError, byPassword, byRefreshToken } from './authenticate.ts';
import type { Identity } from './grants.ts';
import { grantsFor, subjectOf } from './grants.ts';
import type { AuthDeps } from './auth-deps.ts';
import { ACCESS_TOKEN_SECONDS } from './jwt.ts';
import { parseScopes } from './scopes.ts';
import { auditFailedLogin, auditToken, type TokenAudit } from './audit-logins.ts';
import { byIdToken, OIDC_USER, refreshOptions } from './oidc-exchange.ts';


const MAX_FORM_BYTES = 64 * 1024;
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function basic(req: RegistryRequest): { name: string; password: string } | undefined {
  const auth = header(req, 'authorization');
  if (auth === undefined || !/^basic /i.test(auth)) return undefined;
  const text = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { name: text.slice(0, i), password: text.slice(i + 1) };
}

function tooMany(seconds: number): RegistryError {
  return new RegistryError('TOOMANYREQUESTS', { reason: `too many failed logins: try again in ${seconds} s` }, { headers: { 'retry-after': String(seconds) } });
}

/** A password login, throttled per user and address: refused before hashing when over the limit. */
async function passwordLogin(auth: AuthDeps, req: RegistryRequest, name: string, password: string, now: number): Promise<Identity> {
  const address = req.clientAddress ?? '';
  const wait = await auth.throttle.retryAfter(name, address, now);
  if (wait > 0) throw tooMany(wait);
  try {
    return await byPassword(auth.store, name, password, now);
  } catch (e) {
    if (e instanceof AuthenticationError) await auth.throttle.failed(name, address, now);
    throw e;
  }
}

function unauthorized(reason: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', { reason }, { headers: { 'www-authenticate': 'Basic realm="registry token"' } });
}

async function answer(auth: AuthDeps, who: Identity, scopes: string[], offline: boolean, now: number, audit?: TokenAudit): Promise<RegistryResponse> {
  const access = await grantsFor(auth.store, who, parseScopes(scopes));
  if (audit && who.kind !== 'anonymous') await auditToken(audit, subjectOf(who), access);
  const token = await auth.tokens.issueAccess(subjectOf(who), access, now);
  const body: Record<string, unknown> = { token, access_token: token, expires_in: ACCESS_TOKEN_SECONDS, issued_at: new Date(now).toISOString() };
  const refresh = offline ? refreshOptions(who, now) : undefined;
  if (refresh) body.refresh_token = await auth.tokens.issueRefresh(subjectOf(who), now, refresh);
  return jsonResponse(200, body, NO_STORE);
}

function checkService(auth: AuthDeps, service: string | null): void {
  if (service !== null && service !== auth.tokens.service) throw new RegistryError('DENIED', { reason: `unknown service ${JSON.stringify(service.slice(0, 100))}: this registry is ${JSON.stringify(auth.tokens.service)}` }, { status: 400 });
}

function authOf(deps: { auth?: AuthDeps }): AuthDeps {
  if (!deps.auth) throw new RegistryError('UNSUPPORTED', { reason: 'authentication is not enabled on this registry' }, { status: 404, message: 'no such endpoint' });
  return deps.auth;
}

export const getToken: Operation = {
  access: () => [],
  public: true,
  async handle({ req, deps }) {
    const auth = authOf(deps);
    checkService(auth, req.query.get('service'));
    const credentials = basic(req);
    let who: Identity = { kind: 'anonymous' };
    if (credentials) {
      try {
        who = credentials.name === OIDC_USER ? await byIdToken(auth, credentials.password, deps.now()) : await passwordLogin(auth, req, credentials.name, credentials.password, deps.now());
      } catch (e) {
        if (e instanceof AuthenticationError) {
          await auditFailedLogin(deps.audit, req, credentials.name, 'basic');
          throw unauthorized(e.message);
        }
        throw e;
      }
    }
    const res = await answer(auth, who, req.query.getAll('scope'), req.query.get('offline_token') === 'true', deps.now(), deps.audit && { audit: deps.audit, req, action: 'login' });
    // Asked with no credentials at all: every anonymous caller of these scopes may have this token
    // (it grants public pulls only), so a shared cache may keep it for a fraction of its life.
    if (who.kind === 'anonymous' && header(req, 'authorization') === undefined) {
      res.headers['cache-control'] = `public, max-age=${SHARED_CACHE_SECONDS.anonymousToken}`;
      delete res.headers.pragma;
    }
    return res;
  },
};

function oauthError(status: number, error: string, description: string): RegistryResponse {
  return jsonResponse(status, { error, error_description: description }, NO_STORE);
}

export const postToken: Operation = {
  access: () => [],
  public: true,
  async handle({ req, deps }) {
    const auth = authOf(deps);
    const type = header(req, 'content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    const raw = await readLimited(req.body, MAX_FORM_BYTES, header(req, 'content-length'));
    if (raw === undefined) return oauthError(400, 'invalid_request', `the form is over ${MAX_FORM_BYTES} bytes`);
    const form = new URLSearchParams(Buffer.from(raw).toString('utf8'));
    checkService(auth, form.get('service'));
    let who: Identity;
    try {
      const grant = form.get('grant_type');
      if (grant === 'password' && form.get('username') === OIDC_USER) who = await byIdToken(auth, form.get('password') ?? '', deps.now());
      else if (grant === 'password') who = await passwordLogin(auth, req, form.get('username') ?? '', form.get('password') ?? '', deps.now());
      else if (grant === 'refresh_token') who = await byRefreshToken(auth.store, auth.tokens, form.get('refresh_token') ?? '', deps.now());
      else return oauthError(400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    } catch (e) {
      if (e instanceof AuthenticationError) {
        await auditFailedLogin(deps.audit, req, form.get('username') ?? '', form.get('grant_type') ?? '');
        return oauthError(401, 'invalid_grant', e.message);
      }
      throw e;
    }
    // Space-separated (the OAuth2 spec, docker) or repeated (containers/image: skopeo, podman, buildah).
    const scopes = form.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const action = form.get('grant_type') === 'refresh_token' ? 'token.refresh' : 'login';
    const res = await answer(auth, who, scopes, form.get('access_type') === 'offline', deps.now(), deps.audit && { audit: deps.audit, req, action });
    return res;
  },
};
