// Rotation of the token keys secret in the synthesized templates (issue 15): per environment the
// rotation Lambda in the keys stack (primary region), the secret's rotation schedule (30 days, not at
// deploy), Secrets Manager's permission to invoke it, its role (the secret's rotation calls, and
// GetRandomPassword, which has no resource), and the alarm on its errors. The calls themselves are
// held against the role in secrets-vs-calls.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const resources = (stack: string, type: string): [string, Json][] =>
  Object.entries(s.templateJson(stack).Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties as Json]);

describe.each([
  { env: 'dev', region: 'us-east-1', replicas: [] as string[] },
  { env: 'staging', region: 'eu-west-1', replicas: [] as string[] },
  { env: 'prod', region: 'us-east-1', replicas: ['eu-west-1', 'ap-southeast-2'] },
])('$env', ({ env, region, replicas }) => {
  const stack = `OciRegistry-${env}-Keys`;
  const fnOf = () => resources(stack, 'AWS::Lambda::Function').find(([, p]) => p.FunctionName === `oci-registry-${env}-token-key-rotation`)!;
  const tokenKeys = () => resources(stack, 'AWS::SecretsManager::Secret').find(([, p]) => p.Name === `oci-registry/${env}/token-keys`)!;

  it('a rotation Lambda in the primary region, where the replicated secret rotates', () => {
    expect(s.assembly.getStackByName(stack).environment.region).toBe(region);
    const [, fn] = fnOf();
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30, Handler: 'index.handler', Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'oci-registry-token-key-rotation' } } });
    expect(tokenKeys()[1].ReplicaRegions ?? []).toEqual(replicas.map((Region) => ({ Region })));
  });

  it('the token keys secret rotates every 30 days with it, not at deploy; no other secret rotates', () => {
    const [fnId] = fnOf();
    const [secretId] = tokenKeys();
    const schedules = resources(stack, 'AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(1);
    expect(schedules[0]![1]).toEqual({
      SecretId: { Ref: secretId },
      RotationLambdaARN: { 'Fn::GetAtt': [fnId, 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager may invoke the function.
    const permissions = resources(stack, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.FunctionName).includes(fnId));
    expect(permissions.map(([, p]) => [p.Action, p.Principal])).toEqual([['lambda:InvokeFunction', 'secretsmanager.amazonaws.com']]);
    // CDK guards a rotated secret: nobody in the account may delete it (the stack drops this policy first on destroy).
    const policies = resources(stack, 'AWS::SecretsManager::ResourcePolicy').filter(([, p]) => JSON.stringify(p.SecretId) === JSON.stringify({ Ref: secretId }));
    expect(policies.map(([, p]) => p.ResourcePolicy.Statement.map((st: Json) => [st.Effect, st.Action]))).toEqual([[['Deny', 'secretsmanager:DeleteSecret']]]);
  });

  it('its role: the rotation calls on that secret, GetRandomPassword on *, its own logs; nothing else', () => {
    const [, fn] = fnOf();
    const [secretId] = tokenKeys();
    const roleId = fn.Role['Fn::GetAtt'][0];
    const policies = resources(stack, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Roles).includes(roleId));
    const statements = policies.flatMap(([, p]) => p.PolicyDocument.Statement as Json[]);
    const bySecret = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify({ Ref: secretId }));
    expect(bySecret.flatMap((st) => st.Action).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage']);
    expect(statements.filter((st) => st.Resource === '*').map((st) => st.Action)).toEqual(['secretsmanager:GetRandomPassword']);
    expect(statements.flatMap((st) => [st.Action].flat()).sort()).toEqual([
      'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetRandomPassword', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
    ]);
    for (const st of statements) expect(st.Effect).toBe('Allow');
    expect(s.templateJson(stack).Resources[roleId]!.Properties!.ManagedPolicyArns).toBeUndefined();
  });

  it('an alarm on its errors and throttles, in the primary region\'s monitoring stack', () => {
    const alarms = Object.fromEntries(resources(`OciRegistry-${env}-Monitoring`, 'AWS::CloudWatch::Alarm').map(([, a]) => [a.AlarmName, a]));
    const errors = alarms[`oci-registry-${env}-token-key-rotation-lambda-errors-${region}`];
    expect(errors).toMatchObject({
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'FunctionName', Value: `oci-registry-${env}-token-key-rotation` }],
      AlarmDescription: 'The token key rotation Lambda failed (unhandled error or timeout).',
    });
    expect(errors.AlarmActions.length).toBeGreaterThan(0);
    expect(alarms[`oci-registry-${env}-token-key-rotation-lambda-throttles-${region}`]).toMatchObject({ MetricName: 'Throttles' });
  });
});
