// Rotating the token signing key (docs/deploy.md, "Rotating the signing keys"): the secret's new
// seed signs, its `previous` seeds still verify the tokens they signed until they are removed; keys
// are derived, so the same seed gives the same key (and kid) in every process.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenService } from '../../../functions/core/auth/jwt.ts';
import { deriveTokenKey, tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';

const SETTINGS = { issuer: 'reg', service: 'reg', refreshTokenSeconds: 3600 };
const pull = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];
const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

describe('token key rotation', () => {
  const old = randomBytes(32);
  const fresh = randomBytes(32);
  const before = new TokenService(tokenKeysFrom([old]), SETTINGS);
  const during = new TokenService(tokenKeysFrom([fresh, old]), SETTINGS);
  const after = new TokenService(tokenKeysFrom([fresh]), SETTINGS);

  it('during the rotation the new seed signs and tokens of the old one still verify, access and refresh alike', async () => {
    const [access, refresh] = await Promise.all([before.issueAccess('alice', pull), before.issueRefresh('alice')]);
    expect((await during.verifyAccess(access)).access).toEqual(pull);
    expect((await during.verifyRefresh(refresh)).sub).toBe('alice');
    const next = await during.issueAccess('alice', pull);
    expect(kidOf(next)).toBe(deriveTokenKey(fresh).kid);
    expect(kidOf(next)).not.toBe(kidOf(access));
    // A process not yet given the new seed does not accept the new key's tokens.
    await expect(before.verifyAccess(next)).rejects.toThrow();
  });

  it('once the old seed is removed, its tokens are refused; the new ones verify', async () => {
    const [access, refresh] = await Promise.all([before.issueAccess('alice', pull), before.issueRefresh('alice')]);
    await expect(after.verifyAccess(access)).rejects.toThrow();
    await expect(after.verifyRefresh(refresh)).rejects.toThrow();
    expect((await after.verifyAccess(await during.issueAccess('bob', pull))).sub).toBe('bob');
  });

  it('the key is the seed\'s: derived again it is the same key, with the same kid', () => {
    expect(deriveTokenKey(old).kid).toBe(deriveTokenKey(Buffer.from(old)).kid);
    expect(deriveTokenKey(old).kid).not.toBe(deriveTokenKey(fresh).kid);
  });
});
