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
}

/** A principal whose rights are its token's `access` claims. */
export interface TokenPrincipal extends Principal {
  access: Grant[];
}

const quoted = (v: string) => `"${v.replace(/["\\]/g, '')}"`;

export function challenge(settings: AuthSettings, required: readonly Access[], error?: 'invalid_token' | 'insufficient_scope'): string {
  const parts = [`realm=${quoted(settings.realm)}`, `service=${quoted(settings.service)}`];
  if (required.length > 0) parts.push(`scope=${quoted(required.map(scopeOf).join(' '))}`);
  if (error) parts.push(`error=${quoted(error)}`);
  return `Bearer ${parts.join(',')}`;
}

export function covers(granted: readonly Grant[], access: Access): boolean {
  return access.actions.every((action) =>
    granted.some((g) => g.type === access.type && g.name === access.name && (g.actions.includes(action) || g.actions.includes('*'))));
}

export class TokenAuthorizer implements Authorizer {
  readonly #tokens: TokenService;
  readonly #settings: AuthSettings;

  constructor(tokens: TokenService, settings: AuthSettings) {
    this.#tokens = tokens;
    this.#settings = settings;
  }

  async authorize(req: RegistryRequest, required: Access[]): Promise<Decision> {
    const auth = header(req, 'authorization');
    const bearer = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (bearer === undefined) {
      return { allowed: false, status: 401, challenge: challenge(this.#settings, required), detail: { reason: 'authentication required: get a token from the realm in WWW-Authenticate' } };
    }
    let claims;
    try {
      claims = await this.#tokens.verifyAccess(bearer);
    } catch (e) {
      const reason = e instanceof TokenError ? e.message : 'invalid token';
      return { allowed: false, status: 401, challenge: challenge(this.#settings, required, 'invalid_token'), detail: { reason: `invalid token: ${reason}` } };
    }
    const missing = required.filter((a) => !covers(claims.access, a));
    if (missing.length > 0) {
      return {
        allowed: false,
        status: 401,
        challenge: challenge(this.#settings, required, 'insufficient_scope'),
        detail: { reason: 'the token does not grant this access', needed: missing.map(scopeOf) },
      };
    }
    const principal: TokenPrincipal = { subject: claims.sub, access: claims.access };
    return { allowed: true, principal };
  }

  async can(principal: Principal, access: Access): Promise<boolean> {
    const granted = (principal as Partial<TokenPrincipal>).access;
    return granted !== undefined && covers(granted, access);
  }
}
