// The token endpoint's side of keyless CI and personal access tokens: who an ID token stands for
// (`docker login -u oidc -p <ID token>`, or the form POST's password grant with username `oidc`),
// and what a new refresh token for an identity carries (the rules or access token it came from; a trust rule's refresh
// token keeps its first expiry, so refreshing never extends it).
import type { JWTPayload } from 'jose';
import { RegistryError } from '../errors.ts';
import { AuthenticationError } from './authenticate.ts';
import type { AuthDeps } from './auth-deps.ts';
import type { Identity } from './grants.ts';
import { OidcTokenError, OidcUnavailableError } from './oidc.ts';
import { refusal, ruleKey } from './trust-rules.ts';

/** The user name `docker login` is given with an ID token as the password. */
export const OIDC_USER = 'oidc';

const RETRY_SECONDS = 5;

const claimsSubject = (claims: JWTPayload): string =>
  `oidc:${typeof claims.repository === 'string' ? claims.repository : String(claims.sub)}#${String(claims.repository_id ?? '')}`;

/** The identity of a verified ID token: the trust rules that accept it. AuthenticationError (saying why) or a 503 otherwise. */
export async function byIdToken(auth: AuthDeps, token: string, now: number): Promise<Identity> {
  if (!auth.oidc) throw new AuthenticationError('keyless (OIDC) login is not enabled on this registry');
  let claims: JWTPayload & { iss: string };
  try {
    claims = await auth.oidc.verify(token, now);
  } catch (e) {
    if (e instanceof OidcTokenError) throw new AuthenticationError(`the ID token is not valid here: ${e.message}`);
    if (e instanceof OidcUnavailableError) throw new RegistryError('UNAVAILABLE', { reason: e.message }, { headers: { 'retry-after': String(RETRY_SECONDS) } });
    throw e;
  }
  const repositoryId = typeof claims.repository_id === 'string' ? claims.repository_id : undefined;
  const candidates = repositoryId === undefined ? [] : await auth.store.trustRulesFor(claims.iss, repositoryId);
  const rules = candidates.filter((r) => refusal(r, claims) === undefined);
  if (rules.length === 0) {
    // The reasons name only rules for the very repository the (valid) token is from.
    const why = candidates.map((r) => `rule ${ruleKey(r)}: ${refusal(r, claims)}`).join('; ');
    throw new AuthenticationError(`no trust rule accepts this ID token${why ? ` (${why})` : ''}`);
  }
  const until = Math.floor(now / 1000) + Math.min(...rules.map((r) => r.maxSeconds));
  return { kind: 'oidc', subject: claimsSubject(claims), rules, until };
}

/** What a new refresh token for `who` carries; undefined: no refresh token (anonymous, or a trust rule's time is up). */
export function refreshOptions(who: Identity, now: number): { seconds?: number; rule?: string; pat?: string } | undefined {
  if (who.kind === 'anonymous') return undefined;
  if (who.kind === 'oidc') {
    const seconds = who.until - Math.floor(now / 1000);
    return seconds > 0 ? { seconds, rule: who.rules.map(ruleKey).join(' ') } : undefined;
  }
  if (who.kind === 'user' && who.accessToken) {
    const t = who.accessToken;
    const seconds = t.expiresAt === null ? undefined : Math.floor((t.expiresAt - now) / 1000);
    return { ...(seconds !== undefined ? { seconds } : {}), pat: t.name };
  }
  return {};
}
