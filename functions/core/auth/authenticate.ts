// Who the credentials of a token request belong to: a user by password (argon2id) or personal access
// token, a robot by its secret, anyone holding a valid refresh token, or nobody (anonymous). A
// failure says only that it failed; an unknown user costs the same hash as a wrong password.
// (ID tokens of CI jobs: oidc-exchange.ts.)
import type { IdentityStore } from './identity-store.ts';
import type { RefreshClaims, TokenService } from './jwt.ts';
import type { Identity } from './grants.ts';
import { isRobotName } from './model.ts';
import { accessTokenStillLive, byAccessToken } from './access-tokens.ts';
import type { TrustRule } from './trust-rules.ts';
import { dummyHash, hashPassword, needsRehash, secretMatches, verifyPassword } from './passwords.ts';

export class AuthenticationError extends Error {}

const failed = () => new AuthenticationError('authentication failed');

async function robot(store: IdentityStore, name: string, now: number): Promise<Identity | undefined> {
  const r = await store.getRobot(name);
  if (!r || r.revoked || (r.expiresAt !== null && r.expiresAt <= now)) return undefined;
  return { kind: 'robot', robot: r };
}

export async function byPassword(store: IdentityStore, name: string, password: string, now = Date.now()): Promise<Identity> {
  if (isRobotName(name)) {
    const r = await robot(store, name, now);
    if (!r || r.kind !== 'robot' || !secretMatches(password, r.robot.secretHash)) throw failed();
    return r;
  }
  const viaToken = await byAccessToken(store, name, password, now);
  if (viaToken) return { kind: 'user', user: viaToken.user, accessToken: viaToken.token };
  const user = await store.getUser(name);
  // A user who signs in elsewhere has no password here (''): the same hash is computed, and fails.
  const ok = await verifyPassword(password, user?.passwordHash || (await dummyHash()));
  if (!user || !user.passwordHash || !ok || user.disabled) throw failed();
  if (needsRehash(user.passwordHash)) {
    // Best effort: a read-only replica region cannot write, and the login must not fail for it.
    await hashPassword(password).then((passwordHash) => store.putUser({ ...user, passwordHash }, { create: false })).catch(() => undefined);
  }
  return { kind: 'user', user };
}

/** The identity a refresh token stands for, if it is still valid (user enabled, robot live). */
export async function byRefreshToken(store: IdentityStore, tokens: TokenService, token: string, now = Date.now()): Promise<Identity> {
  let claims: RefreshClaims;
  try {
    claims = await tokens.verifyRefresh(token, now);
  } catch {
    throw failed();
  }
  if (claims.rule !== undefined) return byRuleRefresh(store, { ...claims, rule: claims.rule });
  const sub = claims.sub;
  if (isRobotName(sub)) {
    const r = await robot(store, sub, now);
    if (!r) throw failed();
    return r;
  }
  const user = await store.getUser(sub);
  if (!user || user.disabled) throw failed();
  if (claims.pat === undefined) return { kind: 'user', user };
  const accessToken = await accessTokenStillLive(store, sub, claims.pat, now);
  if (!accessToken) throw failed();
  return { kind: 'user', user, accessToken };
}

/** The identity of a refresh token made by trust rules: the rules that still exist. */
async function byRuleRefresh(store: IdentityStore, claims: RefreshClaims & { rule: string }): Promise<Identity> {
  const found = await Promise.all(claims.rule.split(' ').map((key) => {
    const slash = key.indexOf('/');
    return slash < 0 ? undefined : store.getTrustRule(key.slice(0, slash), key.slice(slash + 1));
  }));
  const rules = found.filter((r): r is TrustRule => r !== undefined);
  if (rules.length === 0) throw failed();
  return { kind: 'oidc', subject: claims.sub, rules, until: claims.exp };
}
