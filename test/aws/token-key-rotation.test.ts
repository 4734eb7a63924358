// Rotation of the token keys secret (functions/aws/token-key-rotation.ts): Secrets Manager's four
// steps against a secret with versions and staging labels (test/support/secrets-manager-fake.ts),
// every refusal the protocol asks for, and what a rotation means for tokens: one signed before
// still verifies after it, one signed with the new key verifies in a process that had the old keys.
import { randomBytes } from 'node:crypto';
import { DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSigningKeys } from '../../functions/aws/signing-keys.ts';
import { nextKid, readRotationConfig, rotatedValue, rotateTokenKeys, RotationError, ROTATION_STEPS, type RotationEvent } from '../../functions/aws/token-key-rotation.ts';
import { TokenService } from '../../functions/core/auth/jwt.ts';
import { RereadTokenKeys, UNKNOWN_KID_REREAD_MS } from '../../functions/core/auth/token-key-source.ts';
import { tokenKeysFrom } from '../../functions/core/auth/token-keys.ts';
import { FakeSecret } from '../support/secrets-manager-fake.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:oci-registry/prod/token-keys-AbCdEf';
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-06T00:00:00Z');
const KEEP = 31 * DAY;
const SETTINGS = { issuer: 'reg', service: 'reg', refreshTokenSeconds: 30 * 86_400 };
const pull = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];
const key = () => randomBytes(32).toString('hex');

let fake: FakeSecret | undefined;
afterEach(() => fake?.restore());

function secret(value: unknown): FakeSecret {
  fake = new FakeSecret(ARN, JSON.stringify(value));
  return fake;
}

const logged: { message: string; data: Record<string, unknown> }[] = [];
const opts = { keepPreviousMs: KEEP, now: () => NOW, log: (message: string, data: Record<string, unknown>) => logged.push({ message, data }) };
const step = (f: FakeSecret, Step: string, token = 'v2', SecretId: unknown = ARN) => rotateTokenKeys(f.client, { Step, SecretId, ClientRequestToken: token }, opts);

/** What Secrets Manager does for one rotation: stage a new version, then the four steps in order. */
async function rotate(f: FakeSecret, token: string): Promise<void> {
  f.startRotation(token);
  for (const s of ROTATION_STEPS) await step(f, s, token);
}

const seedsOf = (json: string) => parseSigningKeys(json).upload.map((k) => Buffer.from(k.secret));
const actions = (f: FakeSecret) => f.calls.map((c) => c.action);

describe('a rotation of the token keys secret', () => {
  it('the four steps: a new 64-character key signs, the old one verifies under previous, AWSCURRENT moves; tokens signed before still verify', async () => {
    const old = key();
    const f = secret({ kid: 't1', key: old });
    const before = new TokenService(tokenKeysFrom(seedsOf(f.current())), SETTINGS);
    const [access, refresh] = await Promise.all([before.issueAccess('alice', pull), before.issueRefresh('alice')]);
    await rotate(f, 'v2');
    const now = JSON.parse(f.current()) as { kid: string; key: string; previous: { kid: string; key: string; retiredAt: string }[] };
    expect(now.kid).toBe('t2');
    expect(now.key).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(now.previous).toEqual([{ kid: 't1', key: old, retiredAt: new Date(NOW).toISOString() }]);
    expect(f.versions.get('v2')!.stages).toEqual(expect.arrayContaining(['AWSCURRENT', 'AWSPENDING']));
    expect(f.versions.get('v1')!.stages).toEqual(['AWSPREVIOUS']);
    expect(f.calls.find((c) => c.action === 'UpdateSecretVersionStage')!.input).toMatchObject({ VersionStage: 'AWSCURRENT', MoveToVersionId: 'v2', RemoveFromVersionId: 'v1' });
    expect(f.calls.find((c) => c.action === 'GetRandomPassword')!.input).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
    const after = new TokenService(tokenKeysFrom(seedsOf(f.current())), SETTINGS);
    expect((await after.verifyAccess(access)).sub).toBe('alice');
    expect((await after.verifyRefresh(refresh)).sub).toBe('alice');
    // Nothing logged holds a key.
    expect(JSON.stringify(logged)).not.toContain(old);
    expect(JSON.stringify(logged)).not.toContain(now.key);
  });

  it('a process that read the keys before the rotation verifies tokens of the new key (unknown kid: one re-read)', async () => {
    const f = secret({ kid: 't1', key: key() });
    let time = NOW;
    const read = async () => tokenKeysFrom(seedsOf((await f.client.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString!));
    const here = new TokenService(await RereadTokenKeys.start({ load: read, now: () => time }), SETTINGS);
    const mine = await here.issueAccess('alice', pull);
    await rotate(f, 'v2');
    const elsewhere = new TokenService(await read(), SETTINGS);
    const theirs = await elsewhere.issueAccess('bob', pull);
    time += UNKNOWN_KID_REREAD_MS;
    expect((await here.verifyAccess(theirs)).sub).toBe('bob');
    expect((await elsewhere.verifyAccess(mine)).sub).toBe('alice');
  });

  it('keeps previous keys while their refresh tokens may live (REGISTRY_REFRESH_TOKEN_DAYS + 1 day), drops older ones', async () => {
    const f = secret({
      kid: 't3', key: key(), previous: [
        { kid: 't2', key: key(), retiredAt: new Date(NOW - 30 * DAY).toISOString() },
        { kid: 't1', key: key(), retiredAt: new Date(NOW - 32 * DAY).toISOString() },
        { kid: 'hand', key: key() },
        { kid: 'bad-date', key: key(), retiredAt: 'yesterday' },
      ],
    });
    await rotate(f, 'v2');
    const now = JSON.parse(f.current()) as { kid: string; previous: { kid: string; retiredAt: string }[] };
    expect(now.kid).toBe('t4');
    // Entries without a readable date (put by hand) count as retired at this rotation.
    expect(now.previous.map((p) => [p.kid, p.retiredAt])).toEqual([
      ['t3', new Date(NOW).toISOString()], ['t2', new Date(NOW - 30 * DAY).toISOString()], ['hand', new Date(NOW).toISOString()], ['bad-date', new Date(NOW).toISOString()],
    ]);
    expect(readRotationConfig({})).toEqual({ keepPreviousMs: 31 * DAY });
    expect(readRotationConfig({ REGISTRY_REFRESH_TOKEN_DAYS: '7' })).toEqual({ keepPreviousMs: 8 * DAY });
  });

  it('a retried createSecret finds its pending version and writes nothing; setSecret calls nothing', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    // Without a clock or a log: the real time.
    await rotateTokenKeys(f.client, { Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'v2' }, { keepPreviousMs: KEEP });
    const pending = f.versions.get('v2')!.value;
    expect(Date.now() - Date.parse((JSON.parse(pending!) as { previous: { retiredAt: string }[] }).previous[0]!.retiredAt)).toBeLessThan(60_000);
    await step(f, 'createSecret');
    expect(f.versions.get('v2')!.value).toBe(pending);
    expect(actions(f).filter((a) => a === 'PutSecretValue' || a === 'GetRandomPassword')).toEqual(['GetRandomPassword', 'PutSecretValue']);
    f.calls.length = 0;
    await step(f, 'setSecret');
    expect(actions(f)).toEqual(['DescribeSecret']);
  });

  it('a version already AWSCURRENT: createSecret and finishSecret do nothing', async () => {
    const f = secret({ kid: 't1', key: key() });
    await rotate(f, 'v2');
    const value = f.current();
    f.calls.length = 0;
    await step(f, 'createSecret');
    await step(f, 'finishSecret');
    expect(actions(f)).toEqual(['DescribeSecret', 'DescribeSecret']);
    expect(f.current()).toBe(value);
  });

  it('names the kid after the current one, past every kid in use', () => {
    expect(nextKid('t1', new Set(['t1']))).toBe('t2');
    expect(nextKid('t9', new Set(['t9', 't10', 't11']))).toBe('t12');
    expect(nextKid('key', new Set(['key']))).toBe('key2');
    expect(() => rotatedValue('{"kid":"t1"}', key(), NOW, KEEP)).toThrow('needs string "kid" and "key"');
  });

  it('finishSecret with no version AWSCURRENT moves the label without removing it from one', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    await step(f, 'createSecret');
    f.versions.get('v1')!.stages = [];
    await step(f, 'finishSecret');
    expect(f.calls.find((c) => c.action === 'UpdateSecretVersionStage')!.input).toEqual({ SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v2' });
  });
});

describe('what a rotation step refuses', () => {
  it('an unknown step, or an event without a secret or token, before any call', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    await expect(step(f, 'deleteSecret')).rejects.toThrow(new RotationError('unknown rotation step "deleteSecret"'));
    await expect(rotateTokenKeys(f.client, {} as RotationEvent, opts)).rejects.toThrow('unknown rotation step undefined');
    await expect(step(f, 'createSecret', 'v2', '')).rejects.toThrow('SecretId and ClientRequestToken must be non-empty strings');
    await expect(step(f, 'createSecret', '')).rejects.toThrow('SecretId and ClientRequestToken must be non-empty strings');
    await expect(rotateTokenKeys(f.client, { Step: 'testSecret', SecretId: ARN, ClientRequestToken: 7 }, opts)).rejects.toThrow('non-empty strings');
    expect(f.calls).toEqual([]);
  });

  it('a secret without rotation enabled', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    f.rotationEnabled = false;
    await expect(step(f, 'createSecret')).rejects.toThrow(`rotation is not enabled on secret ${ARN}`);
    expect(actions(f)).toEqual(['DescribeSecret']);
  });

  it('a token that is no version of the secret, or one not staged AWSPENDING', async () => {
    const f = secret({ kid: 't1', key: key() });
    await expect(step(f, 'createSecret', 'v9')).rejects.toThrow(`secret ${ARN} has no version v9 to rotate to`);
    f.versions.set('v0', { stages: ['AWSPREVIOUS'], value: f.current() });
    for (const s of ROTATION_STEPS) await expect(step(f, s, 'v0')).rejects.toThrow(`version v0 of secret ${ARN} is not staged AWSPENDING`);
    expect(actions(f).every((a) => a === 'DescribeSecret')).toBe(true);
  });

  it('a secret whose description lists no versions', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.mock.on(DescribeSecretCommand).resolves({ RotationEnabled: true });
    await expect(step(f, 'finishSecret')).rejects.toThrow('has no version v2');
  });

  it('createSecret: GetRandomPassword without a password, and a failure other than not-found on the pending read, are errors; nothing is written', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    f.mock.on(GetRandomPasswordCommand).resolves({ RandomPassword: '' });
    await expect(step(f, 'createSecret')).rejects.toThrow(new RotationError('GetRandomPassword returned no password'));
    f.mock.on(GetRandomPasswordCommand).resolves({});
    await expect(step(f, 'createSecret')).rejects.toThrow('GetRandomPassword returned no password');
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionId: 'v2', VersionStage: 'AWSPENDING' }).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(step(f, 'createSecret')).rejects.toThrow('User is not authorized');
    expect(actions(f)).not.toContain('PutSecretValue');
  });

  it('createSecret: a current value without a string, or not a keys secret, is an error', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(step(f, 'createSecret')).rejects.toThrow('the AWSCURRENT version of the secret has no string value');
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 'not json' });
    await expect(step(f, 'createSecret')).rejects.toThrow('signing keys secret is not JSON');
    expect(actions(f)).not.toContain('PutSecretValue');
  });

  it('testSecret: no pending value (not found, rethrown), a pending value without a string, one that drops the current key, one that is no keys secret', async () => {
    const f = secret({ kid: 't1', key: key() });
    f.startRotation('v2');
    await expect(step(f, 'testSecret')).rejects.toThrow("Secrets Manager can't find the specified secret value");
    await expect(step(f, 'testSecret')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionId: 'v2', VersionStage: 'AWSPENDING' }).resolves({});
    await expect(step(f, 'testSecret')).rejects.toThrow('the AWSPENDING version of the secret has no string value');
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionId: 'v2', VersionStage: 'AWSPENDING' }).resolves({ SecretString: JSON.stringify({ kid: 't2', key: key() }) });
    await expect(step(f, 'testSecret')).rejects.toThrow('the pending version drops the current key: tokens it signed would stop verifying');
    f.mock.on(GetSecretValueCommand, { SecretId: ARN, VersionId: 'v2', VersionStage: 'AWSPENDING' }).resolves({ SecretString: JSON.stringify({ kid: 't2', key: 'short' }) });
    await expect(step(f, 'testSecret')).rejects.toThrow('must be at least 32 bytes');
  });
});
