// Who the credentials of a token request belong to: a user by password (argon2id), a robot by its
// secret, anyone holding a valid refresh token, or nobody (anonymous). A failure says only that it
// failed; an unknown user costs the same hash as a wrong password.
import type { IdentityStore } from './identity-store.ts';
import type { TokenService } from './jwt.ts';
import type { Identity } from './grants.ts';
import { isRobotName } from './model.ts';
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
  const user = await store.getUser(name);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok || user.disabled) throw failed();
  if (needsRehash(user.passwordHash)) {
    // Best effort: a read-only replica region cannot write, and the login must not fail for it.
    await hashPassword(password).then((passwordHash) => store.putUser({ ...user, passwordHash }, { create: false })).catch(() => undefined);
  }
  return { kind: 'user', user };
}

/** The identity a refresh token stands for, if it is still valid (user enabled, robot live). */
export async function byRefreshToken(store: IdentityStore, tokens: TokenService, token: string, now = Date.now()): Promise<Identity> {
  let sub: string;
  try {
    sub = (await tokens.verifyRefresh(token, now)).sub;
  } catch {
    throw failed();
  }
  if (isRobotName(sub)) {
    const r = await robot(store, sub, now);
    if (!r) throw failed();
    return r;
  }
  const user = await store.getUser(sub);
  if (!user || user.disabled) throw failed();
  return { kind: 'user', user };
}
