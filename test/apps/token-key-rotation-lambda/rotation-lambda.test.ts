// The deployed token key rotation Lambda (functions/apps/token-key-rotation-lambda): the middy
// handler as Secrets Manager invokes it, step by step, over its own SecretsManagerClient (mocked at
// the SDK by test/support/secrets-manager-fake.ts): the secret rotates, each step logs one JSON line
// through Powertools with the version and outcome, and no line holds a key. A failed step throws.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROTATION_STEPS } from '../../../functions/aws/token-key-rotation.ts';
import { FakeSecret } from '../../support/secrets-manager-fake.ts';
import { lambdaContext } from '../api-lambda/events.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:oci-registry/dev/token-keys-AbCdEf';
const OLD = 'o'.repeat(64);
let secret: FakeSecret;
let out = '';

beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write);
  secret = new FakeSecret(ARN, JSON.stringify({ kid: 't1', key: OLD }), true);
});
afterAll(() => {
  secret.restore();
  vi.restoreAllMocks();
});

describe('the token key rotation Lambda', () => {
  it('rotates the secret over the four steps, one log line each, never a key', async () => {
    const { handler } = await import('../../../functions/apps/token-key-rotation-lambda/index.ts');
    secret.startRotation('v2');
    for (const Step of ROTATION_STEPS) await handler({ Step, SecretId: ARN, ClientRequestToken: 'v2' }, lambdaContext());
    const now = JSON.parse(secret.current()) as { kid: string; key: string; previous: { kid: string }[] };
    expect(now.kid).toBe('t2');
    expect(now.previous.map((p) => p.kid)).toEqual(['t1']);
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.message, l.step])).toEqual(ROTATION_STEPS.map((s) => ['rotation step done', s]));
    expect(lines[0]).toMatchObject({ level: 'INFO', service: 'registry-token-key-rotation', version: 'v2', outcome: 'new key t2 pending, 1 previous kept' });
    expect(out).not.toContain(OLD);
    expect(out).not.toContain(now.key);
    await expect(handler({ Step: 'rollback', SecretId: ARN, ClientRequestToken: 'v2' }, lambdaContext())).rejects.toThrow('unknown rotation step "rollback"');
  });
});
