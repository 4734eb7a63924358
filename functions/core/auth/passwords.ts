// Passwords: argon2id (hash-wasm, no native build), PHC strings so a stored hash names its own
// parameters; a hash made with other parameters than today's is redone at the next good login.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { argon2id, argon2Verify } from 'hash-wasm';

/** OWASP's first argon2id configuration: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMS = { memorySize: 19 * 1024, iterations: 2, parallelism: 1, hashLength: 32 } as const;
const PARAMS_TEXT = `m=${ARGON2_PARAMS.memorySize},t=${ARGON2_PARAMS.iterations},p=${ARGON2_PARAMS.parallelism}`;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...ARGON2_PARAMS, outputType: 'encoded' });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    return await argon2Verify({ password, hash });
  } catch {
    return false;
  }
}

/** Whether a stored hash was made with other parameters than today's (then rehash on login). */
export const needsRehash = (hash: string): boolean => !hash.startsWith('$argon2id$v=19$') || !hash.includes(`$${PARAMS_TEXT}$`);

/**
 * A hash to verify against when the user does not exist, so that an unknown name takes as long to
 * refuse as a wrong password (made once per process, with today's parameters).
 */
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword(randomBytes(16).toString('hex')));

/** A robot or token secret: 32 random bytes, base64url (43 characters). */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/** High-entropy secrets need no slow hash: sha256, compared in constant time. */
export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(secretHash(secret));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}
