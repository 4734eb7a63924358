// The AWS wiring re-reads the token keys secret (functions/aws/deps.ts): a running API or ingest
// process picks up a rotated key without a redeploy, every 5 minutes and on a token of a key it does
// not hold. Run on the file form of the secret (REGISTRY_TOKEN_KEYS_FILE, as start:aws), which goes
// through the same reader; the clock is moved with vitest's fake Date.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { createAwsDeps, logTokenKeysError, warnTokenKeysError, type AwsDeps } from '../../functions/aws/deps.ts';
import { TokenService } from '../../functions/core/auth/jwt.ts';
import { KEY_REFRESH_MS, UNKNOWN_KID_REREAD_MS } from '../../functions/core/auth/token-key-source.ts';
import { deriveTokenKey, tokenKeysFrom } from '../../functions/core/auth/token-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'token-keys-'));
const tokenFile = join(dir, 'token-keys.json');
const keysFile = join(dir, 'keys.json');
writeFileSync(keysFile, JSON.stringify({ kid: 'k1', key: randomBytes(32).toString('hex') }));
const pull = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];
const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
const settle = () => new Promise((r) => setImmediate(r));
const seed = () => randomBytes(32).toString('hex');

afterEach(() => {
  vi.useRealTimers();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function deps(onTokenKeysError?: (e: unknown) => void): Promise<AwsDeps> {
  const config = readAwsConfig({ TABLE_NAME: 't', BUCKET_NAME: 'b', AWS_REGION: 'us-east-1', REGISTRY_KEYS_FILE: keysFile, REGISTRY_TOKEN_KEYS_FILE: tokenFile, REGISTRY_AUTH_SERVICE: 'reg' });
  const d = await createAwsDeps(config, onTokenKeysError ? { onTokenKeysError } : {});
  d.dynamo.destroy();
  d.s3.destroy();
  return d;
}

describe('token keys in a running AWS process', () => {
  it('a rotation reaches the process: a token of the new key verifies at once, the new key signs within 5 minutes, old tokens still verify', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const old = seed();
    writeFileSync(tokenFile, JSON.stringify({ kid: 't1', key: old }));
    const d = await deps();
    const tokens = d.tokens!;
    const before = await tokens.issueAccess('alice', pull);
    // The rotation Lambda writes the new key first, the old one under previous.
    const fresh = seed();
    writeFileSync(tokenFile, JSON.stringify({ kid: 't2', key: fresh, previous: [{ kid: 't1', key: old, retiredAt: new Date().toISOString() }] }));
    const elsewhere = new TokenService(tokenKeysFrom([Buffer.from(fresh), Buffer.from(old)]), { issuer: 'reg', service: 'reg', refreshTokenSeconds: 3600 });
    const after = await elsewhere.issueAccess('bob', pull);
    vi.setSystemTime(Date.now() + UNKNOWN_KID_REREAD_MS);
    expect((await tokens.verifyAccess(after)).sub).toBe('bob');
    expect((await tokens.verifyAccess(before)).sub).toBe('alice');
    expect(kidOf(await tokens.issueAccess('carol', pull))).toBe(deriveTokenKey(Buffer.from(fresh)).kid);
  });

  it('the periodic re-read: 5 minutes on, the next request starts it and the one after signs with the new key', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const old = seed();
    writeFileSync(tokenFile, JSON.stringify({ kid: 't1', key: old }));
    const tokens = (await deps()).tokens!;
    const fresh = seed();
    writeFileSync(tokenFile, JSON.stringify({ kid: 't2', key: fresh, previous: [{ kid: 't1', key: old }] }));
    expect(kidOf(await tokens.issueAccess('alice', pull))).toBe(deriveTokenKey(Buffer.from(old)).kid);
    vi.setSystemTime(Date.now() + KEY_REFRESH_MS);
    expect(kidOf(await tokens.issueAccess('alice', pull))).toBe(deriveTokenKey(Buffer.from(old)).kid);
    await vi.waitFor(async () => expect(kidOf(await tokens.issueAccess('alice', pull))).toBe(deriveTokenKey(Buffer.from(fresh)).kid));
  });

  it('a secret that cannot be read again keeps the keys in use and is reported (never its value)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const old = seed();
    writeFileSync(tokenFile, JSON.stringify({ kid: 't1', key: old }));
    const errors: unknown[] = [];
    const tokens = (await deps((e) => errors.push(e))).tokens!;
    writeFileSync(tokenFile, '{"kid":"t2"');
    vi.setSystemTime(Date.now() + KEY_REFRESH_MS);
    await tokens.issueAccess('alice', pull);
    await settle();
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(String(errors[0])).toContain('not JSON');
    expect(kidOf(await tokens.issueAccess('alice', pull))).toBe(deriveTokenKey(Buffer.from(old)).kid);
  });

  it('without a logger of the entry point, a failed re-read is one JSON warning without the secret', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const old = seed();
      writeFileSync(tokenFile, JSON.stringify({ kid: 't1', key: old }));
      await deps();
      logTokenKeysError(new Error('AccessDeniedException'));
      logTokenKeysError('throttled');
      expect(warn.mock.calls.map((c) => JSON.parse(String(c[0])) as unknown)).toEqual([
        { level: 'WARN', message: 'token keys not re-read: the keys read before stay in use', error: 'AccessDeniedException' },
        { level: 'WARN', message: 'token keys not re-read: the keys read before stay in use', error: 'throttled' },
      ]);
      expect(warn.mock.calls.join('')).not.toContain(old);
    } finally {
      warn.mockRestore();
    }
  });

  it("with the entry point's logger (API Lambda, ingest), a failed re-read is a warning with the error's message", () => {
    const lines: [string, { error: string }][] = [];
    const warn = warnTokenKeysError({ warn: (message, extra) => void lines.push([message, extra]) });
    warn(new Error('AccessDeniedException'));
    warn('throttled');
    expect(lines).toEqual([
      ['token keys not re-read: the keys read before stay in use', { error: 'AccessDeniedException' }],
      ['token keys not re-read: the keys read before stay in use', { error: 'throttled' }],
    ]);
  });
});
