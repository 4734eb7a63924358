// Personal access tokens: for users who sign in elsewhere (no password here) or who would rather not
// give a CI job their password. A token has a name, an expiry, and a secret shown once; it is the
// password in `docker login -u <user>` and at the token endpoint, and stops working when revoked or
// expired, or when its user is disabled (refresh tokens made from it too: they name it). The token
// text is `pat.<name>.<secret>` (32 random bytes, base64url: no dots), so a login finds it by user
// and name; only the secret's SHA-256 is kept (argon2 adds nothing to 256 random bits).
import { AdminError, parseExpiry } from './admin.ts';
import type { AccessToken } from './credential-store.ts';
import type { IdentityStore } from './identity-store.ts';

export type { AccessToken };
import type { User } from './model.ts';
import { newSecret, secretHash, secretMatches } from './passwords.ts';


const TOKEN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TOKEN_TEXT = /^pat\.([a-z0-9][a-z0-9._-]{0,63})\.([\w-]{43})$/;

export const isLive = (t: AccessToken, now: number): boolean => !t.revoked && (t.expiresAt === null || t.expiresAt > now);

/**
 * The user and token a `pat.<name>.<secret>` password stands for, if it is one and valid; undefined
 * otherwise (the caller then checks it as a password, so a refusal costs the same either way).
 */
export async function byAccessToken(store: IdentityStore, userName: string, password: string, now: number): Promise<{ user: User; token: AccessToken } | undefined> {
  const m = TOKEN_TEXT.exec(password);
  if (!m) return undefined;
  const token = await store.getAccessToken(userName, m[1]!);
  if (!token || !isLive(token, now) || !secretMatches(m[2]!, token.secretHash)) return undefined;
  const user = await store.getUser(userName);
  if (!user || user.disabled) return undefined;
  return { user, token };
}

/** A refresh token made from an access token: valid while the access token is. */
export async function accessTokenStillLive(store: IdentityStore, userName: string, name: string, now: number): Promise<AccessToken | undefined> {
  const token = await store.getAccessToken(userName, name);
  return token && isLive(token, now) ? token : undefined;
}

export const publicAccessToken = (t: AccessToken) => ({
  user: t.user, name: t.name, expiresAt: t.expiresAt === null ? 'never' : new Date(t.expiresAt).toISOString(), revoked: t.revoked, created: new Date(t.created).toISOString(),
});

export async function createAccessToken(store: IdentityStore, userName: string, name: string, expires: string | undefined, now = Date.now()): Promise<{ token: AccessToken; text: string }> {
  if (!TOKEN_NAME.test(name)) throw new AdminError(`invalid token name ${JSON.stringify(name)}: 1-64 of a-z 0-9 . _ -`);
  if (!(await store.getUser(userName))) throw new AdminError(`no user ${userName}`);
  const secret = newSecret();
  const token: AccessToken = { user: userName, name, secretHash: secretHash(secret), expiresAt: parseExpiry(expires, now), revoked: false, created: now };
  await store.putAccessToken(token, { create: true });
  return { token, text: `pat.${name}.${secret}` };
}

export async function revokeAccessToken(store: IdentityStore, userName: string, name: string): Promise<AccessToken> {
  const token = await store.getAccessToken(userName, name);
  if (!token) throw new AdminError(`user ${userName} has no access token ${name}`);
  const revoked = { ...token, revoked: true };
  await store.putAccessToken(revoked, { create: false });
  return revoked;
}
