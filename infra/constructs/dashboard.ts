// One dashboard per environment: pushes and pulls (Powertools metrics of the API), bytes served
// by CloudFront, API latency p50/p99 and errors per region, and the health of the pieces below.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { tableName } from '../names.ts';
import { METRICS_NAMESPACE, PULL_OPERATION, PUSH_OPERATION, REQUESTS_METRIC } from '../runtime-env.ts';
import type { ApiMetricsSource } from '../stacks/monitoring-stack.ts';

export interface DashboardProps {
  readonly config: EnvironmentConfig;
  readonly apis: readonly ApiMetricsSource[];
  readonly distributionId: string;
  readonly eventsFunctionName: string;
  readonly ingest?: { readonly loadBalancerFullName: string; readonly targetGroupFullName: string };
}

const PERIOD = Duration.minutes(5);

export class RegistryDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { config } = props;
    // Successful requests of one API operation (its Powertools Requests count, statusClass 2xx).
    const succeeded = (operation: string, label: string, region: string) => new cloudwatch.Metric({
      namespace: `${METRICS_NAMESPACE}/${config.name}`, metricName: REQUESTS_METRIC, statistic: 'Sum', period: PERIOD, region,
      dimensionsMap: { service: 'oci-registry-api', operation, statusClass: '2xx' }, label: `${label} ${region}`,
    });
    const api = (a: ApiMetricsSource, metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway', metricName, statistic, period: PERIOD, region: a.region,
      dimensionsMap: { ApiId: a.apiId }, label: `${metricName} ${statistic} ${a.region}`,
    });
    const cloudFront = (metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: 'AWS/CloudFront', metricName, statistic, period: PERIOD, region: 'us-east-1',
      dimensionsMap: { DistributionId: props.distributionId, Region: 'Global' },
    });
    const lambda = (fn: string, region: string, metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/Lambda', metricName, statistic: 'Sum', period: PERIOD, region, dimensionsMap: { FunctionName: fn }, label: `${metricName} ${fn === props.eventsFunctionName ? 'events' : `api ${region}`}`,
    });
    const dynamo = (metricName: string) => new cloudwatch.Metric({
      namespace: 'AWS/DynamoDB', metricName, statistic: 'Sum', period: PERIOD, region: config.region, dimensionsMap: { TableName: tableName(config) },
    });
    const regions = props.apis.map((a) => a.region);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `oci-registry-${config.name}`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# OCI registry ${config.name}\nPushes = manifest PUTs, pulls = manifest GETs that succeeded (Powertools metric \`${REQUESTS_METRIC}\`, operations \`${PUSH_OPERATION}\`/\`${PULL_OPERATION}\`, statusClass 2xx). Alarms and what to do: docs/deploy.md.`,
        width: 24, height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Pushes', left: regions.map((r) => succeeded(PUSH_OPERATION, 'Pushes', r)), width: 6, stacked: true }),
      new cloudwatch.GraphWidget({ title: 'Pulls', left: regions.map((r) => succeeded(PULL_OPERATION, 'Pulls', r)), width: 6, stacked: true }),
      new cloudwatch.GraphWidget({ title: 'Bytes served by CloudFront', left: [cloudFront('BytesDownloaded', 'Sum')], right: [cloudFront('Requests', 'Sum')], width: 6 }),
      new cloudwatch.GraphWidget({ title: 'CloudFront errors (%)', left: [cloudFront('5xxErrorRate', 'Average'), cloudFront('4xxErrorRate', 'Average')], width: 6 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API latency p50 / p99 (ms)',
        left: props.apis.flatMap((a) => [api(a, 'Latency', 'p50'), api(a, 'Latency', 'p99')]),
        leftAnnotations: [{ value: 500, label: 'p99 alarm' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: props.apis.map((a) => api(a, 'Count', 'Sum')),
        right: props.apis.flatMap((a) => [api(a, '5xx', 'Sum'), api(a, '4xx', 'Sum')]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: [
          ...props.apis.flatMap((a) => [lambda(a.functionName, a.region, 'Errors'), lambda(a.functionName, a.region, 'Throttles')]),
          lambda(props.eventsFunctionName, config.region, 'Errors'),
        ],
        width: 8,
      }),
    );
    const health: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({ title: 'DynamoDB throttles', left: [dynamo('ReadThrottleEvents'), dynamo('WriteThrottleEvents')], width: 8 }),
    ];
    if (props.ingest) {
      const ingest = props.ingest;
      const elb = (metricName: string, statistic: string) => new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB', metricName, statistic, period: Duration.minutes(1), region: config.region,
        dimensionsMap: { LoadBalancer: ingest.loadBalancerFullName, TargetGroup: ingest.targetGroupFullName },
      });
      health.push(new cloudwatch.GraphWidget({ title: 'Ingest tasks (healthy / unhealthy)', left: [elb('HealthyHostCount', 'Minimum'), elb('UnHealthyHostCount', 'Maximum')], width: 8 }));
    }
    this.dashboard.addWidgets(...health);
  }
}
