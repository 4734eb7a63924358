// Monitoring of one region: an SNS topic (e-mail and/or an existing topic) and the alarms on the
// metrics of that region (CloudWatch alarms only see their own region's metrics; CloudFront's are
// in us-east-1). The primary region's stack also holds the dashboard, which may show any region.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { tableName } from '../names.ts';
import { METRICS_NAMESPACE } from '../runtime-env.ts';

export interface ApiMetricsSource {
  readonly region: string;
  readonly apiId: string;
  readonly functionName: string;
}

export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly region: string;
}

/** Thresholds, named once: the deploy guide and the tests read them from here. */
export const THRESHOLDS = {
  api5xxPercent: 0.1,
  apiP99LatencyMs: 500,
  lambdaErrors: 1,
  lambdaThrottles: 1,
  dynamoThrottles: 1,
  replicationLatencySeconds: 900,
  cloudFront5xxPercent: 0.1,
  ingestHealthyTasks: 1,
  auditWriteFailures: 1,
} as const;

const FIVE_MINUTES = Duration.minutes(5);

export class MonitoringStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly config: EnvironmentConfig;
  private readonly extraTopic: sns.ITopic | undefined;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `OCI registry ${props.config.name} alarms`, enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notifications carry alarm names and states only; CloudWatch cannot publish to a topic under the AWS managed key, and a customer key per region costs more than the data is worth.',
    });
    if (props.config.alarms.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alarms.email));
    const topicArn = props.config.alarms.topicArn;
    this.extraTopic = topicArn && topicArn.split(':')[3] === props.region ? sns.Topic.fromTopicArn(this, 'ExtraTopic', topicArn) : undefined;
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    if (this.extraTopic) alarm.addAlarmAction(new actions.SnsAction(this.extraTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  private name(what: string): string {
    return `oci-registry-${this.config.name}-${what}-${this.region}`;
  }

  /** API 5xx rate (the pull success objective is 99.9%), p99 latency, Lambda errors and throttles. */
  /** `service`: the API's Powertools service name (the `service` dimension of its own metrics). */
  addApiAlarms(api: ApiMetricsSource, service: string): void {
    const apiMetric = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway', metricName, statistic, period: FIVE_MINUTES, dimensionsMap: { ApiId: api.apiId },
    });
    this.alarm('Api5xxRate', {
      alarmName: this.name('api-5xx-rate'),
      alarmDescription: `More than ${THRESHOLDS.api5xxPercent}% of API requests failed with 5xx (pull success objective 99.9%).`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors: apiMetric('5xx', 'Sum'), requests: apiMetric('Count', 'Sum') },
        period: FIVE_MINUTES,
        label: 'API 5xx %',
      }),
      threshold: THRESHOLDS.api5xxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
    this.alarm('ApiP99Latency', {
      alarmName: this.name('api-p99-latency'),
      alarmDescription: `API p99 latency above ${THRESHOLDS.apiP99LatencyMs} ms.`,
      metric: apiMetric('Latency', 'p99'),
      threshold: THRESHOLDS.apiP99LatencyMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    // An audit entry the table did not take is only in the log (its `audit write failed` line).
    this.alarm('AuditWriteFailures', {
      alarmName: this.name('audit-write-failures'),
      alarmDescription: 'An audit entry could not be written to the table (throttled, failed or no answer within 1 s); the entry is in the API log group, in its "audit write failed" line.',
      metric: new cloudwatch.Metric({
        namespace: `${METRICS_NAMESPACE}/${this.config.name}`, metricName: 'AuditWriteFailures', statistic: 'Sum', period: FIVE_MINUTES,
        dimensionsMap: { service },
      }),
      threshold: THRESHOLDS.auditWriteFailures,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.addLambdaAlarms('Api', api.functionName);
  }

  /** `id` in CamelCase: `TokenKeyRotation` names the alarms `…-token-key-rotation-lambda-errors`. */
  addLambdaAlarms(id: string, functionName: string): void {
    const kebab = id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    const words = kebab.replaceAll('-', ' ');
    const fnMetric = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/Lambda', metricName, statistic: 'Sum', period: FIVE_MINUTES, dimensionsMap: { FunctionName: functionName },
    });
    this.alarm(`${id}LambdaErrors`, {
      alarmName: this.name(`${kebab}-lambda-errors`),
      alarmDescription: `The ${words} Lambda failed (unhandled error or timeout).`,
      metric: fnMetric('Errors'),
      threshold: THRESHOLDS.lambdaErrors,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.alarm(`${id}LambdaThrottles`, {
      alarmName: this.name(`${kebab}-lambda-throttles`),
      alarmDescription: `The ${words} Lambda was throttled (account or reserved concurrency exhausted).`,
      metric: fnMetric('Throttles'),
      threshold: THRESHOLDS.lambdaThrottles,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
  }

  addTableAlarm(): void {
    const throttles = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/DynamoDB', metricName, statistic: 'Sum', period: FIVE_MINUTES, dimensionsMap: { TableName: tableName(this.config) },
    });
    this.alarm('DynamoThrottles', {
      alarmName: this.name('dynamodb-throttles'),
      alarmDescription: 'DynamoDB throttled reads or writes of the registry table (on-demand: a hot key or a sudden >2x traffic jump).',
      metric: new cloudwatch.MathExpression({
        expression: 'reads + writes',
        usingMetrics: { reads: throttles('ReadThrottleEvents'), writes: throttles('WriteThrottleEvents') },
        period: FIVE_MINUTES,
        label: 'throttle events',
      }),
      threshold: THRESHOLDS.dynamoThrottles,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
    });
  }

  addReplicationAlarm(sourceBucket: string, destinationBucket: string, ruleId: string, destinationRegion: string): void {
    this.alarm(`ReplicationLatency-${ruleId}`, {
      alarmName: this.name(`replication-${ruleId}`),
      alarmDescription: `Objects take more than ${THRESHOLDS.replicationLatencySeconds / 60} minutes to replicate to ${destinationRegion} (rule ${ruleId}).`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/S3', metricName: 'ReplicationLatency', statistic: 'Maximum', period: FIVE_MINUTES,
        dimensionsMap: { SourceBucket: sourceBucket, DestinationBucket: destinationBucket, RuleId: ruleId },
      }),
      threshold: THRESHOLDS.replicationLatencySeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
  }

  /**
   * Garbage collection: a run that failed, timed out or was aborted; and no real run completed in two
   * schedule periods (the GC Lambda's GcRunsCompleted metric; no data counts as breaching, so a
   * schedule that stopped firing alarms too); a run whose CDN purge failed. The Lambda's own errors
   * alarm through addLambdaAlarms.
   */
  addGcAlarms(gc: { stateMachineArn: string; functionName: string; service: string; everyHours: number }): void {
    const states = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/States', metricName, statistic: 'Sum', period: Duration.hours(1), dimensionsMap: { StateMachineArn: gc.stateMachineArn },
    });
    this.alarm('GcRunFailed', {
      alarmName: this.name('gc-run-failed'),
      alarmDescription: 'A garbage collection run failed, timed out or was aborted (docs/gc.md: its execution history and gc/runs/<id>/ say where).',
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: { failed: states('ExecutionsFailed'), timedOut: states('ExecutionsTimedOut'), aborted: states('ExecutionsAborted') },
        period: Duration.hours(1),
        label: 'failed GC runs',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.alarm('GcNotCompleted', {
      alarmName: this.name('gc-not-completed'),
      alarmDescription: `No garbage collection run completed in two periods of ${gc.everyHours} h.`,
      metric: new cloudwatch.Metric({
        namespace: `${METRICS_NAMESPACE}/${this.config.name}`, metricName: 'GcRunsCompleted', statistic: 'Sum',
        period: Duration.hours(gc.everyHours), dimensionsMap: { service: gc.service },
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarm('GcCdnPurgeFailed', {
      alarmName: this.name('gc-cdn-purge-failed'),
      alarmDescription: 'A garbage collection run could not invalidate what it deleted in CloudFront: those answers stay cached up to a day (docs/gc.md; the GC log line says why).',
      metric: new cloudwatch.Metric({
        namespace: `${METRICS_NAMESPACE}/${this.config.name}`, metricName: 'GcCdnPurgeFailures', statistic: 'Sum',
        period: Duration.hours(1), dimensionsMap: { service: gc.service },
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.addLambdaAlarms('Gc', gc.functionName);
  }

  addCloudFrontAlarm(distributionId: string): void {
    this.alarm('CloudFront5xxRate', {
      alarmName: this.name('cloudfront-5xx-rate'),
      alarmDescription: `More than ${THRESHOLDS.cloudFront5xxPercent}% of viewer requests got a 5xx from CloudFront.`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/CloudFront', metricName: '5xxErrorRate', statistic: 'Average', period: FIVE_MINUTES,
        dimensionsMap: { DistributionId: distributionId, Region: 'Global' },
      }),
      threshold: THRESHOLDS.cloudFront5xxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
  }

  addIngestAlarm(loadBalancerFullName: string, targetGroupFullName: string): void {
    this.alarm('IngestUnhealthy', {
      alarmName: this.name('ingest-unhealthy'),
      alarmDescription: 'No healthy ingest task behind the ALB: streamed uploads (PATCH) fail.',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB', metricName: 'HealthyHostCount', statistic: 'Minimum', period: Duration.minutes(1),
        dimensionsMap: { LoadBalancer: loadBalancerFullName, TargetGroup: targetGroupFullName },
      }),
      threshold: THRESHOLDS.ingestHealthyTasks,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }
}
