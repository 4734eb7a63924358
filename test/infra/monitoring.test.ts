// Monitoring: each alarm's metric and threshold, where it lives (alarms only see their own
// region's metrics; CloudFront's are in us-east-1), where it notifies, and the dashboard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
// Synthesizing every environment takes ~10 s, most of it CDK's CloudFormation validation.
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const asText = (v: unknown) => JSON.stringify(v);

function alarms(stack: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const r of Object.values(s.templateJson(stack).Resources)) {
    if (r.Type === 'AWS::CloudWatch::Alarm') out[(r.Properties as Json).AlarmName] = r.Properties;
  }
  return out;
}

function dims(a: Json): Record<string, string> {
  return Object.fromEntries((a.Dimensions ?? []).map((d: Json) => [d.Name, asText(d.Value)]));
}

function mathMetrics(a: Json): Record<string, Json> {
  return Object.fromEntries(a.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => [m.Id, m.MetricStat]));
}

describe.each([
  { env: 'staging', primary: 'eu-west-1', replicas: [] as string[], ingest: true },
  { env: 'prod', primary: 'us-east-1', replicas: ['eu-west-1', 'ap-southeast-2'], ingest: true },
  { env: 'dev', primary: 'us-east-1', replicas: [] as string[], ingest: false },
])('$env', ({ env, primary, replicas, ingest }) => {
  const name = (what: string, region: string) => `oci-registry-${env}-${what}-${region}`;
  const primaryAlarms = () => alarms(`OciRegistry-${env}-Monitoring`);

  it.each([primary, ...replicas])('API in %s: 5xx rate above 0.1%, p99 latency above 500 ms, Lambda errors and throttles, a failed audit write', (region) => {
    const stack = region === primary ? `OciRegistry-${env}-Monitoring` : `OciRegistry-${env}-Monitoring-${region}`;
    expect(s.assembly.getStackByName(stack).environment.region).toBe(region);
    const a = alarms(stack);
    const apiStack = region === primary ? `OciRegistry-${env}-Api` : `OciRegistry-${env}-Api-${region}`;

    const rate = a[name('api-5xx-rate', region)];
    expect(rate.Threshold).toBe(0.1);
    expect(rate.ComparisonOperator).toBe('GreaterThanThreshold');
    expect(rate.Metrics.find((m: Json) => m.Expression).Expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
    const used = mathMetrics(rate);
    expect(used.errors.Metric).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
    expect(used.requests.Metric).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Count' });
    expect(used.errors.Stat).toBe('Sum');
    expect(asText(used.errors.Metric.Dimensions)).toContain(`"StackName":"${apiStack}"`);

    const p99 = a[name('api-p99-latency', region)];
    expect(p99).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 500, ComparisonOperator: 'GreaterThanThreshold' });
    expect(dims(p99).ApiId).toContain(`"StackName":"${apiStack}"`);

    for (const [what, metric] of [['api-lambda-errors', 'Errors'], ['api-lambda-throttles', 'Throttles']] as const) {
      const alarm = a[name(what, region)];
      expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metric, Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(dims(alarm).FunctionName).toContain(`"StackName":"${apiStack}"`);
    }

    // Audit entries the table did not take: the metric the API publishes (functions/aws/audit.ts), by
    // the namespace and service its function is given.
    const fns: Json[] = Object.values(s.templateJson(apiStack).Resources).filter((r: Json) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(fns).toHaveLength(1);
    const vars: Json = fns[0]!.Properties.Environment.Variables;
    expect(a[name('audit-write-failures', region)]).toMatchObject({
      Namespace: vars.POWERTOOLS_METRICS_NAMESPACE, MetricName: 'AuditWriteFailures', Statistic: 'Sum', Period: 300,
      Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Dimensions: [{ Name: 'service', Value: vars.POWERTOOLS_SERVICE_NAME }],
    });
  });

  it('events Lambda errors and throttles, DynamoDB throttled requests, in the primary region', () => {
    const a = primaryAlarms();
    expect(a[name('events-lambda-errors', primary)]).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
    expect(dims(a[name('events-lambda-errors', primary)]).FunctionName).toBe(`"oci-registry-${env}-events"`);
    expect(a[name('events-lambda-throttles', primary)]).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
    const ddb = a[name('dynamodb-throttles', primary)];
    expect(ddb.Threshold).toBe(1);
    expect(ddb.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    const used = mathMetrics(ddb);
    expect(used.reads.Metric).toMatchObject({ Namespace: 'AWS/DynamoDB', MetricName: 'ReadThrottleEvents', Dimensions: [{ Name: 'TableName', Value: `oci-registry-${env}` }] });
    expect(used.writes.Metric).toMatchObject({ Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents' });
  });

  it(`S3 replication latency above 15 minutes, per replication rule (${replicas.length * 2} rules)`, () => {
    const a = primaryAlarms();
    const replication = Object.values(a).filter((x) => x.MetricName === 'ReplicationLatency');
    expect(replication).toHaveLength(replicas.length * 2);
    for (const region of replicas) {
      for (const rule of [`blobs-to-${region}`, `manifests-to-${region}`]) {
        const alarm = a[name(`replication-${rule}`, primary)];
        expect(alarm).toMatchObject({ Namespace: 'AWS/S3', Statistic: 'Maximum', Threshold: 900, ComparisonOperator: 'GreaterThanThreshold' });
        const d = dims(alarm);
        expect(d.RuleId).toBe(`"${rule}"`);
        expect(d.SourceBucket).toContain(`-${primary}`);
        expect(d.DestinationBucket).toContain(`-${region}`);
      }
    }
  });

  it('CloudFront 5xx rate above 0.1%, alarmed in us-east-1', () => {
    const stack = primary === 'us-east-1' ? `OciRegistry-${env}-Monitoring` : `OciRegistry-${env}-Monitoring-us-east-1`;
    expect(s.assembly.getStackByName(stack).environment.region).toBe('us-east-1');
    const cf = alarms(stack)[name('cloudfront-5xx-rate', 'us-east-1')];
    expect(cf).toMatchObject({ Namespace: 'AWS/CloudFront', MetricName: '5xxErrorRate', Statistic: 'Average', Threshold: 0.1, ComparisonOperator: 'GreaterThanThreshold' });
    expect(dims(cf).Region).toBe('"Global"');
    expect(dims(cf).DistributionId).toContain(`"StackName":"OciRegistry-${env}-Edge"`);
  });

  it(ingest ? 'ingest unhealthy: fewer than one healthy task for 3 minutes (missing data counts)' : 'no ingest alarm without ingest', () => {
    const alarm = primaryAlarms()[name('ingest-unhealthy', primary)];
    if (!ingest) {
      expect(alarm).toBeUndefined();
      return;
    }
    expect(alarm).toMatchObject({
      Namespace: 'AWS/ApplicationELB', MetricName: 'HealthyHostCount', Statistic: 'Minimum', Period: 60,
      Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'breaching',
    });
    expect(Object.keys(dims(alarm)).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
  });

  it('every alarm notifies its region\'s topic, on alarm and on recovery; the topic mails the configured address', () => {
    for (const stack of s.registry(env).monitoring.map((m) => m.stackName)) {
      const t = s.templateJson(stack);
      const topic = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::SNS::Topic')![0];
      for (const alarm of Object.values(alarms(stack))) {
        expect(alarm.AlarmActions).toContainEqual({ Ref: topic });
        expect(alarm.OKActions).toContainEqual({ Ref: topic });
      }
      s.template(stack).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: s.registry(env).config.alarms.email });
    }
  });

  it('one dashboard: pushes, pulls, bytes served, latency p50/p99, errors', () => {
    const dashboards = Object.values(s.templateJson(`OciRegistry-${env}-Monitoring`).Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = asText((dashboards[0]!.Properties as Json).DashboardBody);
    // Pushes and pulls: the API's Requests of manifest.put / manifest.get that succeeded.
    for (const op of ['manifest.put', 'manifest.get']) {
      expect(body.replaceAll('\\"', '"')).toContain(`"Requests","operation","${op}","service","oci-registry-api","statusClass","2xx"`);
    }
    for (const needle of ['Pushes', 'Pulls', 'BytesDownloaded', 'Latency', 'p50', 'p99', '5xx', 'Errors', 'Throttles', 'ReadThrottleEvents', `OciRegistry/${env}`]) {
      expect(body, needle).toContain(needle);
    }
    expect(body.includes('HealthyHostCount')).toBe(ingest);
    for (const region of replicas) expect(body).toContain(region);
  });
});

describe('an existing SNS topic', () => {
  it('gets the alarms of its own region only (prod names one in us-east-1)', () => {
    const topicArn = 'arn:aws:sns:us-east-1:111122223333:oncall';
    const inPrimary = Object.values(alarms('OciRegistry-prod-Monitoring'));
    expect(inPrimary.length).toBeGreaterThan(5);
    for (const a of inPrimary) expect(a.AlarmActions).toContain(topicArn);
    for (const a of Object.values(alarms('OciRegistry-prod-Monitoring-eu-west-1'))) expect(a.AlarmActions).not.toContain(topicArn);
  });
});
