// The registry's side of token auth: every request carries a Bearer access token whose `access`
// claims cover what the route needs; otherwise 401 with the challenge that tells the client where to
// get one (realm and service from configuration, never from Host or X-Forwarded-*).
import type { Access, Authorizer, Decision, Principal } from '../access.ts';
import { header, type RegistryRequest } from '../http.ts';
import type { Grant } from './grants.ts';
import { TokenError, type TokenService } from './jwt.ts';
import { scopeOf } from './scopes.ts';

export interface AuthSettings {
  /** Where clients get tokens, e.g. https://registry.example.com/token. */
  realm: string;
  service: string;
  /**
   * The realm of one request, when the public URL is known only per request: an AWS environment
   * without a domain, whose CloudFront Functions write the distribution's own host name into each
   * request (functions/aws/public-url.ts). Undefined from it: `realm`.
   */
  realmOf?: (req: RegistryRequest) => string | undefined;
}

/** A principal whose rights are its token's `access` claims. */
export interface TokenPrincipal extends Principal {
  access: Grant[];
}

const quoted = (v: string) => `"${v.replace(/["\\]/g, '')}"`;

export function challenge(settings: AuthSettings, required: readonly Access[], error?: 'invalid_token' | 'insufficient_scope', req?: RegistryRequest): string {
  const realm = (req && settings.realmOf?.(req)) ?? settings.realm;
  const parts = [`realm=${quoted(realm)}`, `service=${quoted(settings.service)}`];
  if (required.length > 0) parts.push(`scope=${quoted(required.map(scopeOf).join(' '))}`);
  if (error) parts.push(`error=${quoted(error)}`);
  return `Bearer ${parts.join(',')}`;
}

export function covers(granted: readonly Grant[], access: Access): boolean {
  return access.actions.every((action) =>
    granted.some((g) => g.type === access.type && g.name === access.name && (g.actions.includes(action) || g.actions.includes('*'))));
}

/** Whether a repository's project is public (anyone may pull); cached briefly by the caller's choice. */
export type PublicCheck = (repository: string) => Promise<boolean>;

export class TokenAuthorizer implements Authorizer {
  readonly #tokens: TokenService;
  readonly #settings: AuthSettings;
  readonly #isPublic: PublicCheck | undefined;

  /** `isPublic`: with it, a request without credentials may pull from public projects (and shared caches may keep the answers). */
  constructor(tokens: TokenService, settings: AuthSettings, isPublic?: PublicCheck) {
    this.#tokens = tokens;
    this.#settings = settings;
    this.#isPublic = isPublic;
  }

  /** A request with no credentials: let in when all it needs is pull on public repositories. */
  async #anonymous(required: Access[]): Promise<Decision | undefined> {
    if (!this.#isPublic || required.length === 0) return undefined;
    for (const a of required) {
      if (a.type !== 'repository' || a.actions.some((x) => x !== 'pull') || !(await this.#isPublic(a.name))) return undefined;
    }
    const access = required.map((a) => ({ type: 'repository' as const, name: a.name, actions: ['pull'] }));
    const principal: TokenPrincipal = { subject: 'anonymous', access, publicRead: true };
    return { allowed: true, principal };
  }

  async authorize(req: RegistryRequest, required: Access[]): Promise<Decision> {
    const auth = header(req, 'authorization');
    const bearer = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (bearer === undefined) {
      const anonymous = auth === undefined ? await this.#anonymous(required) : undefined;
      if (anonymous) return anonymous;
      return { allowed: false, status: 401, challenge: challenge(this.#settings, required, undefined, req), detail: { reason: 'authentication required: get a token from the realm in WWW-Authenticate' } };
    }
    let claims;
    try {
      claims = await this.#tokens.verifyAccess(bearer);
    } catch (e) {
      const reason = e instanceof TokenError ? e.message : 'invalid token';
      return { allowed: false, status: 401, challenge: challenge(this.#settings, required, 'invalid_token', req), detail: { reason: `invalid token: ${reason}` } };
    }
    const missing = required.filter((a) => !covers(claims.access, a));
    if (missing.length > 0) {
      return {
        allowed: false,
        status: 401,
        challenge: challenge(this.#settings, required, 'insufficient_scope', req),
        detail: { reason: 'the token does not grant this access', needed: missing.map(scopeOf) },
      };
    }
    // An anonymous token carries public pulls only (grants.ts): its reads are as shareable as a request without one.
    const principal: TokenPrincipal = { subject: claims.sub, access: claims.access, ...(claims.sub === 'anonymous' ? { publicRead: true } : {}) };
    return { allowed: true, principal };
  }

  async can(principal: Principal, access: Access): Promise<boolean> {
    const granted = (principal as Partial<TokenPrincipal>).access;
    return granted !== undefined && covers(granted, access);
  }
}
