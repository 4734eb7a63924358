// Secrets Manager and KMS checked against what the code calls (issue 14). start:aws reads its keys
// from a file, so the IAM-versus-calls test cannot see these calls: here each deployed process's
// start-up (createAwsDeps, what the API Lambda, the events Lambda and the ingest task run on their
// first request) is run with its environment exactly as the templates set it, against a Secrets
// Manager client mocked at the SDK (aws-sdk-client-mock), and every GetSecretValue it sends is held
// against that process's role as synthesized: allowed, and nothing granted that no call reads.
// The token key rotation Lambda likewise: a whole rotation against a secret with versions and
// staging labels (test/support/secrets-manager-fake.ts), every call held against its role. The
// primary API also reads proxy projects' upstream credentials when a fetch needs them: one such read
// is made through the same store the API builds, and held against its grant on the prefix.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { createAwsDeps } from '../../functions/aws/deps.ts';
import { readRotationConfig, rotateTokenKeys, ROTATION_STEPS } from '../../functions/aws/token-key-rotation.ts';
import { FakeSecret } from '../support/secrets-manager-fake.ts';
import { upstreamSecrets } from '../../functions/aws/proxy.ts';
import { allows, resolve, roleStatements, type Place, type Statement } from './iam-policy.ts';
import { SYNTH_TIMEOUT_MS, synthesizeAll, type Json, type Synthesized } from './synth.ts';

const ENV = 'prod';
/** prod's account in cdk.json (the templates name it where a stack's account is known). */
const ACCOUNT = '111122223333';
const PRIMARY: Place = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
const REPLICA: Place = { ...PRIMARY, region: 'eu-west-1' };
type Process = 'api' | 'replica-api' | 'events' | 'ingest';
const PROCESSES: { p: Process; stack: string; at: Place }[] = [
  { p: 'api', stack: `OciRegistry-${ENV}-Api`, at: PRIMARY },
  { p: 'replica-api', stack: `OciRegistry-${ENV}-Api-eu-west-1`, at: REPLICA },
  { p: 'events', stack: `OciRegistry-${ENV}-Events`, at: PRIMARY },
  { p: 'ingest', stack: `OciRegistry-${ENV}-Ingest`, at: PRIMARY },
];

let s: Synthesized;
const sm = mockClient(SecretsManagerClient);
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEYS = JSON.stringify({ kid: 'k1', key: randomBytes(32).toString('hex') });

beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => {
  sm.restore();
  s?.cleanup();
});

/** The process's environment and role as the template gives them (intrinsics resolved for `at`). */
function deployed(stack: string, p: Process, at: Place): { env: Record<string, string>; statements: Statement[] } {
  const template = s.templateJson(stack) as Json;
  const resources = Object.values(template.Resources as Record<string, Json>);
  let vars: Record<string, unknown>;
  let role: Json;
  if (p === 'ingest') {
    const task = resources.find((r) => r.Type === 'AWS::ECS::TaskDefinition')!;
    const container = task.Properties.ContainerDefinitions[0];
    vars = Object.fromEntries((container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(container.Secrets, 'ingest gets no secret values injected: it reads them itself').toBeUndefined();
    role = task.Properties.TaskRoleArn;
  } else {
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.TABLE_NAME)!;
    vars = fn.Properties.Environment.Variables;
    role = fn.Properties.Role;
  }
  const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v, at)]));
  return { env: { ...env, AWS_REGION: at.region }, statements: roleStatements(template, role['Fn::GetAtt'][0], at) };
}

describe('Secrets Manager and KMS against the calls each process makes', () => {
  it.each(PROCESSES)('$p: every secret it reads at start-up is granted, and every secret granted is read', async ({ p, stack, at }) => {
    const { env, statements } = deployed(stack, p, at);
    const read: string[] = [];
    sm.reset();
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
      read.push(input.SecretId);
      return { SecretString: input.SecretId === env.CDN_PRIVATE_KEY_SECRET_ARN ? PEM : KEYS };
    });
    const config = readAwsConfig(env);
    const deps = await createAwsDeps(config);
    deps.dynamo.destroy();
    deps.s3.destroy();
    expect(read.length, `${p} reads its keys`).toBeGreaterThan(0);
    for (const id of read) expect(allows(statements, 'secretsmanager:GetSecretValue', id), `${p}: GetSecretValue on ${id}`).toBeDefined();
    // A proxy project's upstream credentials, read by name when a fetch needs them (not at start-up):
    // IAM sees the secret's ARN, its name plus Secrets Manager's random suffix.
    const upstream: string[] = [];
    if (config.proxy.secrets) {
      sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
        upstream.push(`arn:aws:secretsmanager:${at.region}:${ACCOUNT}:secret:${input.SecretId}-AbC123`);
        return { SecretString: JSON.stringify({ username: 'u', password: 'p' }) };
      });
      expect(await upstreamSecrets(config, () => new SecretsManagerClient({ region: at.region })).get('hub')).toEqual({ username: 'u', password: 'p' });
      expect(upstream).toEqual([`arn:aws:secretsmanager:${at.region}:${ACCOUNT}:secret:oci-registry/${ENV}/upstream/hub-AbC123`]);
      expect(allows(statements, 'secretsmanager:GetSecretValue', upstream[0]!), `${p}: GetSecretValue on ${upstream[0]}`).toBeDefined();
      // Not another secret of the environment by a name under it, nor another environment's.
      expect(allows(statements, 'secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${at.region}:${ACCOUNT}:secret:oci-registry/${ENV}/signing-keys-AbC123`)).toBeUndefined();
      expect(allows(statements, 'secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${at.region}:${ACCOUNT}:secret:oci-registry/dev/upstream/hub-AbC123`)).toBeUndefined();
    }
    // Upstream credentials in the primary region's API only: the one that fetches from upstreams.
    expect(upstream.length > 0, `${p} reads upstream credentials`).toBe(p === 'api');
    const granted = statements.filter((st) => st.actions.some((a) => a.startsWith('secretsmanager:'))).flatMap((st) => st.resources);
    const upstreamGrant = `arn:aws:secretsmanager:${at.region}:${ACCOUNT}:secret:oci-registry/${ENV}/upstream/*`;
    expect([...new Set(granted)].sort()).toEqual([...new Set([...read, ...(upstream.length > 0 ? [upstreamGrant] : [])])].sort());
    // Only GetSecretValue: no listing, no writes.
    expect(new Set(statements.flatMap((st) => st.actions).filter((a) => a.startsWith('secretsmanager:')))).toEqual(new Set(['secretsmanager:GetSecretValue']));
    if (p === 'api') expect(read).toContain(env.CDN_PRIVATE_KEY_SECRET_ARN);
    // A replica reads its region's copy of each secret (Secrets Manager replicas), never the primary's.
    if (p === 'replica-api') for (const id of read) expect(id).toContain(':secretsmanager:eu-west-1:');
  });

  it('no KMS call is needed: every secret uses the AWS managed key (no KmsKeyId), and no role is granted kms:*', () => {
    const secrets = Object.values(s.templateJson(`OciRegistry-${ENV}-Keys`).Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets.length).toBe(4);
    for (const secret of secrets) {
      expect((secret.Properties as Json).KmsKeyId).toBeUndefined();
      for (const replica of ((secret.Properties as Json).ReplicaRegions ?? []) as Json[]) expect(replica.KmsKeyId).toBeUndefined();
    }
    for (const { p, stack, at } of PROCESSES) {
      const kms = deployed(stack, p, at).statements.flatMap((st) => st.actions).filter((a) => a.toLowerCase().startsWith('kms:'));
      expect(kms, p).toEqual([]);
    }
  });
});

describe('the token key rotation Lambda against its role', () => {
  it('a whole rotation (a retried createSecret too) makes only calls its role allows, on the token keys secret alone, and uses every grant', async () => {
    const template = s.templateJson(`OciRegistry-${ENV}-Keys`) as Json;
    const resources = Object.values(template.Resources as Record<string, Json>);
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `oci-registry-${ENV}-token-key-rotation`)!;
    const schedules = resources.filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(1);
    const secretArn = resolve(schedules[0]!.Properties.SecretId, PRIMARY);
    const statements = roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0], PRIMARY);
    const secret = new FakeSecret(secretArn, JSON.stringify({ kid: 't1', key: randomBytes(32).toString('hex') }));
    try {
      secret.startRotation('v2');
      const config = readRotationConfig(fn.Properties.Environment.Variables);
      await rotateTokenKeys(secret.client, { Step: 'createSecret', SecretId: secretArn, ClientRequestToken: 'v2' }, config);
      for (const Step of ROTATION_STEPS) await rotateTokenKeys(secret.client, { Step, SecretId: secretArn, ClientRequestToken: 'v2' }, config);
      expect(JSON.parse(secret.current())).toMatchObject({ kid: 't2' });
    } finally {
      secret.restore();
    }
    const called = new Set(secret.calls.map((c) => `secretsmanager:${c.action}`));
    expect([...called].sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetRandomPassword', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']);
    for (const c of secret.calls) {
      // GetRandomPassword names no secret: IAM checks it against resource *.
      const resource = c.secretId ?? '*';
      if (c.secretId !== undefined) expect(c.secretId).toBe(secretArn);
      expect(allows(statements, `secretsmanager:${c.action}`, resource), `${c.action} on ${resource}`).toBeDefined();
    }
    const granted = statements.filter((st) => st.actions.some((a) => a.startsWith('secretsmanager:')));
    expect(new Set(granted.flatMap((st) => st.actions))).toEqual(called);
    // Only GetRandomPassword, which has no resource, is granted on *; the rest on the secret alone.
    for (const st of granted) expect(st.resources, st.actions.join()).toEqual(st.actions.includes('secretsmanager:GetRandomPassword') ? ['*'] : [secretArn]);
    expect(granted.find((st) => st.resources.includes('*'))!.actions).toEqual(['secretsmanager:GetRandomPassword']);
    expect(statements.flatMap((st) => st.actions).filter((a) => !a.startsWith('secretsmanager:')).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});
