// The token key source (functions/core/auth/token-key-source.ts): a process re-reads its token keys
// every 5 minutes in the background (no read on a request's path), and at once (at most every 30 s)
// when a token names a key it does not hold, so a rotated key reaches it without a redeploy.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenService, type TokenKeys } from '../../../functions/core/auth/jwt.ts';
import { fixedTokenKeys, KEY_REFRESH_MS, RereadTokenKeys, UNKNOWN_KID_REREAD_MS } from '../../../functions/core/auth/token-key-source.ts';
import { deriveTokenKey, tokenKeysFrom } from '../../../functions/core/auth/token-keys.ts';

const SETTINGS = { issuer: 'reg', service: 'reg', refreshTokenSeconds: 3600 };
const pull = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];
const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
const settle = () => new Promise((r) => setImmediate(r));

/** A secret whose seeds the test changes, a clock it moves, and a count of the reads. */
function store(seeds: Uint8Array[]) {
  const s = {
    seeds,
    reads: 0,
    fail: undefined as Error | undefined,
    time: 1_000_000,
    errors: [] as unknown[],
    load: async (): Promise<TokenKeys> => {
      s.reads++;
      await Promise.resolve();
      if (s.fail) throw s.fail;
      return tokenKeysFrom(s.seeds);
    },
  };
  return s;
}

const start = (s: ReturnType<typeof store>) => RereadTokenKeys.start({ load: s.load, now: () => s.time, onError: (e) => s.errors.push(e) });

describe('token keys re-read', () => {
  const old = randomBytes(32);
  const fresh = randomBytes(32);

  it('re-reads every 5 minutes in the background: the request that finds them due is served with the keys in hand', async () => {
    const s = store([old]);
    const keys = await start(s);
    expect(s.reads).toBe(1);
    s.seeds = [fresh, old];
    s.time += KEY_REFRESH_MS - 1;
    expect(keys.keys().current.kid).toBe(deriveTokenKey(old).kid);
    expect(s.reads).toBe(1);
    s.time += 1;
    // Due: this call starts the read and answers at once with the old keys; calls during the read start no other.
    expect(keys.keys().current.kid).toBe(deriveTokenKey(old).kid);
    expect(keys.keys().current.kid).toBe(deriveTokenKey(old).kid);
    expect(s.reads).toBe(2);
    await settle();
    expect(keys.keys().current.kid).toBe(deriveTokenKey(fresh).kid);
    expect([...keys.keys().verifying.keys()].sort()).toEqual([deriveTokenKey(fresh).kid, deriveTokenKey(old).kid].sort());
    // The next one is 5 minutes after that read.
    s.time += KEY_REFRESH_MS - 1;
    keys.keys();
    expect(s.reads).toBe(2);
  });

  it('a process holding the old keys verifies a token of the new key (one re-read), and a token signed before still verifies', async () => {
    const s = store([old]);
    const source = await start(s);
    const here = new TokenService(source, SETTINGS);
    const before = await here.issueAccess('alice', pull);
    // The rotation: another process already reads the new secret and signs with the new key.
    s.seeds = [fresh, old];
    const elsewhere = new TokenService(tokenKeysFrom(s.seeds), SETTINGS);
    const after = await elsewhere.issueAccess('bob', pull);
    expect(kidOf(after)).toBe(deriveTokenKey(fresh).kid);
    s.time += UNKNOWN_KID_REREAD_MS;
    expect((await here.verifyAccess(after)).sub).toBe('bob');
    expect(s.reads).toBe(2);
    expect((await here.verifyAccess(before)).sub).toBe('alice');
    expect(kidOf(await here.issueAccess('carol', pull))).toBe(deriveTokenKey(fresh).kid);
    expect(s.reads).toBe(2);
  });

  it('unknown key ids re-read at most every 30 s, whatever the tokens say', async () => {
    const s = store([old]);
    const source = await start(s);
    const here = new TokenService(source, SETTINGS);
    const stranger = new TokenService(tokenKeysFrom([randomBytes(32)]), SETTINGS);
    // Just read at start: a token of an unknown key within 30 s reads nothing.
    s.time += UNKNOWN_KID_REREAD_MS - 1;
    await expect(here.verifyAccess(await stranger.issueAccess('eve', pull))).rejects.toThrow('unknown key id');
    expect(s.reads).toBe(1);
    s.time += 1;
    await expect(here.verifyAccess(await stranger.issueAccess('eve', pull))).rejects.toThrow('unknown key id');
    expect(s.reads).toBe(2);
    for (let i = 0; i < 5; i++) await expect(here.verifyAccess(await stranger.issueAccess('eve', pull))).rejects.toThrow('unknown key id');
    expect(s.reads).toBe(2);
    s.time += UNKNOWN_KID_REREAD_MS;
    await expect(here.verifyAccess(await stranger.issueAccess('eve', pull))).rejects.toThrow('unknown key id');
    expect(s.reads).toBe(3);
  });

  it('unknown key ids during a read wait for that read instead of starting another', async () => {
    const s = store([old]);
    const source = await start(s);
    s.seeds = [fresh, old];
    s.time += KEY_REFRESH_MS;
    source.keys();
    const during = await source.keysForUnknownKid();
    expect(during.current.kid).toBe(deriveTokenKey(fresh).kid);
    expect(s.reads).toBe(2);
  });

  it('a failed re-read keeps the keys read before, is reported, and is tried again after 30 s', async () => {
    const s = store([old]);
    const source = await start(s);
    s.fail = new Error('throttled');
    s.time += KEY_REFRESH_MS;
    source.keys();
    await settle();
    expect(s.errors).toEqual([s.fail]);
    expect(source.keys().current.kid).toBe(deriveTokenKey(old).kid);
    expect(s.reads).toBe(2);
    // An unknown kid within 30 s of the failed read reads nothing; the keys in hand answer.
    expect((await source.keysForUnknownKid()).current.kid).toBe(deriveTokenKey(old).kid);
    expect(s.reads).toBe(2);
    s.time += UNKNOWN_KID_REREAD_MS - 1;
    source.keys();
    expect(s.reads).toBe(2);
    s.time += 1;
    // Due again (30 s after the failure), and failing again: the unknown-kid read gets the old keys.
    expect((await source.keysForUnknownKid()).current.kid).toBe(deriveTokenKey(old).kid);
    expect(s.reads).toBe(3);
    expect(s.errors).toHaveLength(2);
    s.fail = undefined;
    s.seeds = [fresh, old];
    s.time += UNKNOWN_KID_REREAD_MS;
    source.keys();
    await settle();
    expect(source.keys().current.kid).toBe(deriveTokenKey(fresh).kid);
  });

  it('a failed first read fails the start; without onError a failed re-read is silent', async () => {
    const s = store([old]);
    s.fail = new Error('AccessDenied');
    await expect(RereadTokenKeys.start({ load: s.load })).rejects.toThrow('AccessDenied');
    s.fail = undefined;
    let now = 0;
    const source = await RereadTokenKeys.start({ load: s.load, now: () => now });
    s.fail = new Error('throttled');
    now += KEY_REFRESH_MS;
    source.keys();
    await settle();
    expect(source.keys().current.kid).toBe(deriveTokenKey(old).kid);
    // The real clock by default.
    const real = await RereadTokenKeys.start({ load: async () => tokenKeysFrom([old]) });
    expect(real.keys().current.kid).toBe(deriveTokenKey(old).kid);
  });

  it('fixed keys never change: an unknown key id gets the same keys', async () => {
    const keys = tokenKeysFrom([old]);
    const source = fixedTokenKeys(keys);
    expect(source.keys()).toBe(keys);
    expect(await source.keysForUnknownKid()).toBe(keys);
    const tokens = new TokenService(source, SETTINGS);
    await expect(tokens.verifyAccess(await new TokenService(tokenKeysFrom([fresh]), SETTINGS).issueAccess('eve', pull))).rejects.toThrow('unknown key id');
  });
});
