// Garbage collection in the synthesized templates (issue 16, item 2): per environment the GC
// Lambda, the state machine that loops over its steps, the EventBridge Scheduler schedule that
// starts it (period and grace from cdk.json), the alarms (a failed run, no completed run in two
// periods with missing data breaching, Lambda errors), and how deletions reach the replica regions.
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkJson, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  const envs = cdkJson().context['registry:environments'] as Record<string, Json>;
  // Staging's settings with GC every 6 h, a two-day grace and the schedule off.
  const { domain: _, ...staging } = envs.staging;
  s = synthesizeAll({ 'registry:environments': { ...envs, gcsix: { ...staging, gc: { everyHours: 6, grace: '2d', enabled: false } } } });
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const resources = (stack: string, type: string): Json[] =>
  Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === type).map((r) => r.Properties);

describe.each([
  { env: 'dev', region: 'us-east-1', hours: 24, grace: '43200s', enabled: true },
  { env: 'staging', region: 'eu-west-1', hours: 24, grace: '43200s', enabled: true },
  { env: 'prod', region: 'us-east-1', hours: 24, grace: '43200s', enabled: true },
  { env: 'gcsix', region: 'eu-west-1', hours: 6, grace: '172800s', enabled: false },
])('$env', ({ env, region, hours, grace, enabled }) => {
  const stack = `OciRegistry-${env}-Gc`;

  it('a GC Lambda in the primary region with the grace of cdk.json, 15 min a step', () => {
    expect(s.assembly.getStackByName(stack).environment.region).toBe(region);
    const fns = resources(stack, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(1);
    expect(fns[0]).toMatchObject({ FunctionName: `oci-registry-${env}-gc`, Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 900 });
    expect(fns[0].Environment.Variables).toMatchObject({ TABLE_NAME: `oci-registry-${env}`, GC_GRACE: grace, GC_UNTAGGED: '86400s', POWERTOOLS_SERVICE_NAME: 'oci-registry-gc' });
  });

  it("finds the environment's distribution by the comment the edge stack gives it, to purge what a run deleted", () => {
    const [fn] = resources(stack, 'AWS::Lambda::Function');
    const [distribution] = resources(`OciRegistry-${env}-Edge`, 'AWS::CloudFront::Distribution');
    expect(fn.Environment.Variables.CDN_DISTRIBUTION_COMMENT).toBe(distribution.DistributionConfig.Comment);
    expect(fn.Environment.Variables.CDN_DISTRIBUTION_COMMENT).toBe(`OCI registry ${env}`);
  });

  it('a state machine that loops over the Lambda until a step answers done, retrying failed steps', () => {
    const [sm] = resources(stack, 'AWS::StepFunctions::StateMachine');
    expect(sm.StateMachineName).toBe(`oci-registry-${env}-gc`);
    const text = JSON.stringify(sm.DefinitionString);
    // The definition with its references (partition, the function's ARN) written as X.
    const def = JSON.parse((sm.DefinitionString['Fn::Join'][1] as Json[]).map((p) => (typeof p === 'string' ? p : 'X')).join(''));
    expect(def.StartAt).toBe('Start');
    expect(def.TimeoutSeconds).toBe(12 * 3600);
    expect(def.States.Start.Parameters).toEqual({ 'runId.$': '$$.Execution.Name', seq: 0, 'input.$': '$' });
    expect(def.States.Step.Retry.some((r: Json) => r.ErrorEquals.includes('States.ALL') && r.MaxAttempts === 3)).toBe(true);
    expect(def.States['Finished?'].Choices[0]).toMatchObject({ Variable: '$.step.done', BooleanEquals: true, Next: 'Done' });
    expect(def.States['Finished?'].Default).toBe('Next');
    expect(def.States.Next.Next).toBe('Step');
    expect(text).toContain('lambda:invoke');
  });

  it(`an EventBridge Scheduler schedule every ${hours} h starts a real (not dry) run${enabled ? '' : ' (disabled)'}`, () => {
    const [sched] = resources(stack, 'AWS::Scheduler::Schedule');
    expect(sched.ScheduleExpression).toBe(hours === 24 ? 'rate(1 day)' : `rate(${hours} hours)`);
    expect(sched.State).toBe(enabled ? 'ENABLED' : 'DISABLED');
    expect(JSON.parse(sched.Target.Input)).toEqual({ dryRun: false });
    expect(JSON.stringify(sched.Target.Arn)).toContain('GcStateMachine');
    // The scheduler's role may start this state machine and nothing else.
    const roleId = sched.Target.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as Json).Roles).includes(roleId));
    const statements = policies.flatMap((p) => (p.Properties as Json).PolicyDocument.Statement);
    expect(statements.map((st: Json) => st.Action)).toEqual(['states:StartExecution']);
  });

  it('alarms: a failed run, no completed run in two periods (missing data breaching), a failed CDN purge, Lambda errors', () => {
    const alarms = Object.fromEntries(resources(`OciRegistry-${env}-Monitoring`, 'AWS::CloudWatch::Alarm').map((a) => [a.AlarmName, a]));
    const name = (what: string) => `oci-registry-${env}-${what}-${region}`;
    const failed = alarms[name('gc-run-failed')];
    expect(failed.Metrics.find((m: Json) => m.Expression).Expression).toBe('failed + timedOut + aborted');
    expect(failed.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Metric.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(failed).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const stale = alarms[name('gc-not-completed')];
    expect(stale).toMatchObject({
      Namespace: `OciRegistry/${env}`, MetricName: 'GcRunsCompleted', Statistic: 'Sum', Period: hours * 3600, EvaluationPeriods: 2,
      Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', Dimensions: [{ Name: 'service', Value: 'oci-registry-gc' }],
    });
    expect(alarms[name('gc-lambda-errors')]).toMatchObject({ MetricName: 'Errors', Threshold: 1, Dimensions: [{ Name: 'FunctionName', Value: `oci-registry-${env}-gc` }] });
    expect(alarms[name('gc-cdn-purge-failed')]).toMatchObject({
      Namespace: `OciRegistry/${env}`, MetricName: 'GcCdnPurgeFailures', Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching', Dimensions: [{ Name: 'service', Value: 'oci-registry-gc' }],
    });
    for (const a of [failed, stale, alarms[name('gc-cdn-purge-failed')]]) expect(a.AlarmActions.length).toBeGreaterThan(0);
  });

  it('the GC role may touch the table, blobs/, manifests/ and gc/ only, and invalidate the CDN, as the calls need (iam-vs-calls checks each)', () => {
    const role = Object.entries(s.templateJson(stack).Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')![1].Properties!.Role as Json;
    const roleId = role['Fn::GetAtt'][0];
    const policy = Object.values(s.templateJson(stack).Resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as Json).Roles).includes(roleId))!;
    const text = JSON.stringify(policy.Properties);
    expect(text).not.toContain('uploads/');
    expect(text).not.toContain('s3:PutObjectTagging');
    expect(text).toMatch(/\/gc\/\*/);
    s.template(stack).hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'TableCollect', Action: Match.arrayWith(['dynamodb:Query', 'dynamodb:Scan']) })]) } });
    s.template(stack).hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([
      Match.objectLike({ Sid: 'FindCdn', Action: 'cloudfront:ListDistributions', Resource: '*' }),
      Match.objectLike({ Sid: 'PurgeCdn', Action: 'cloudfront:CreateInvalidation' }),
    ]) } });
  });
});

describe('deletions in replica regions', () => {
  it('GC deletes in the primary only; each replication rule copies delete markers, and every replica bucket expires noncurrent versions after 7 days', () => {
    const primary = resources('OciRegistry-prod-Storage', 'AWS::S3::Bucket')[0];
    const rules = primary.ReplicationConfiguration.Rules as Json[];
    expect(rules.length).toBe(4);
    for (const r of rules) expect(r.DeleteMarkerReplication).toEqual({ Status: 'Enabled' });
    expect(rules.map((r) => r.Filter.Prefix).sort()).toEqual(['blobs/', 'blobs/', 'manifests/', 'manifests/']);
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      const [replica] = resources(`OciRegistry-prod-Storage-${region}`, 'AWS::S3::Bucket');
      const expire = (replica.LifecycleConfiguration.Rules as Json[]).find((r) => r.NoncurrentVersionExpiration);
      expect(expire).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, ExpiredObjectDeleteMarker: true, Status: 'Enabled' });
      expect(expire.Prefix).toBeUndefined();
    }
  });
});
