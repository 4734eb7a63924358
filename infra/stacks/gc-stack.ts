// Garbage collection in AWS (docs/gc.md): the GC Lambda, a Step Functions state machine that calls
// it step by step until the run is done (each step saves the run's state under gc/ in the bucket),
// and an EventBridge Scheduler schedule that starts a run every `gc.everyHours`. Its alarms (a run
// failed, no run completed in two periods, Lambda errors) are in the monitoring stack.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { distributionComment } from '../../functions/adapters/cloudfront/cloudfront-cache.ts';
import { runtimeEnvironment } from '../../functions/aws/env-contract.ts';
import type { EnvironmentConfig } from '../config.ts';
import { acknowledgePrefixWildcards, dataStatements } from '../constructs/grants.ts';
import { RegistryFunction } from '../constructs/registry-function.ts';
import { bucketArn, bucketName, gcName, tableArn, tableName } from '../names.ts';
import { METRICS_NAMESPACE } from '../runtime-env.ts';

export interface GcStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** The Powertools service name of the GC Lambda: the dimension of its metrics. */
export const GC_SERVICE = 'oci-registry-gc';
/** A run longer than this fails (and alarms): a daily run of a large registry takes minutes. */
export const GC_RUN_TIMEOUT = Duration.hours(12);
/** One step: pages until a minute is left (functions/apps/gc-lambda/handler.ts RESERVE_MS). */
export const GC_STEP_TIMEOUT = Duration.minutes(15);

const ms = (n: number): string => `${Math.round(n / 1000)}s`;

export class GcStack extends Stack {
  readonly function: RegistryFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: GcStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.function = new RegistryFunction(this, 'GcFunction', {
      bundle: 'gc',
      functionName: gcName(config),
      memorySize: 1024,
      timeout: GC_STEP_TIMEOUT,
      removalPolicy,
      environment: runtimeEnvironment({
        TABLE_NAME: tableName(config),
        BUCKET_NAME: bucketName(config, config.region),
        GC_GRACE: ms(config.gc.graceMs),
        GC_UNTAGGED: ms(config.gc.untaggedMs),
        CDN_DISTRIBUTION_COMMENT: distributionComment(config.name),
        POWERTOOLS_SERVICE_NAME: GC_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: `${METRICS_NAMESPACE}/${config.name}`,
      }),
    });
    const statements = dataStatements('gc', tableArn(config, config.region), bucketArn(config, config.region));
    for (const s of statements) this.function.role.addToPolicy(s);
    acknowledgePrefixWildcards(this.function.role, statements.flatMap((s) => s.resources).filter((r) => r.endsWith('/*')));
    // The purge after a run (functions/aws/gc-purge.ts): the distribution is created after this stack
    // (in the edge stack, which needs the APIs' addresses), so it is found by its comment and may only be invalidated.
    const distributions = `arn:${this.partition}:cloudfront::${this.account}:distribution/*`;
    this.function.role.addToPolicy(new iam.PolicyStatement({ sid: 'FindCdn', actions: ['cloudfront:ListDistributions'], resources: ['*'] }));
    this.function.role.addToPolicy(new iam.PolicyStatement({ sid: 'PurgeCdn', actions: ['cloudfront:CreateInvalidation'], resources: [distributions] }));
    Validations.of(this.function.role).acknowledge(
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'cloudfront:ListDistributions supports no resource-level permission; the GC finds its distribution by comment with it.' },
      { id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(this.resolve(distributions))}]`, reason: 'CreateInvalidation only; the distribution is created after the GC stack, so its id is not known here.' },
    );

    // The loop: {runId: execution name, seq: 0, input} -> step -> done? -> step ...
    const start = new sfn.Pass(this, 'Start', {
      parameters: { 'runId.$': '$$.Execution.Name', seq: 0, 'input.$': '$' },
    });
    const step = new tasks.LambdaInvoke(this, 'Step', {
      lambdaFunction: this.function.fn,
      payload: sfn.TaskInput.fromObject({ 'runId.$': '$.runId', 'seq.$': '$.seq', 'input.$': '$.input' }),
      // The step's answer, with the execution's input carried to the next step.
      resultSelector: { 'runId.$': '$.Payload.runId', 'seq.$': '$.Payload.seq', 'done.$': '$.Payload.done', 'bytesFreed.$': '$.Payload.bytesFreed', 'counts.$': '$.Payload.counts' },
      resultPath: '$.step',
      retryOnServiceExceptions: true,
      taskTimeout: sfn.Timeout.duration(GC_STEP_TIMEOUT.plus(Duration.minutes(1))),
    });
    // A failed step is retried: it resumes from the state its last successful step saved.
    step.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });
    const next = new sfn.Pass(this, 'Next', { parameters: { 'runId.$': '$.step.runId', 'seq.$': '$.step.seq', 'input.$': '$.input' } });
    const done = new sfn.Succeed(this, 'Done');
    const definition = start.next(step).next(new sfn.Choice(this, 'Finished?').when(sfn.Condition.booleanEquals('$.step.done', true), done).otherwise(next.next(step)));
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'GcStateMachine', {
      stateMachineName: gcName(config),
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: GC_RUN_TIMEOUT,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const flat = (v: string) => flattenCfnReference(this.resolve(v));
    Validations.of(this.stateMachine.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${flat(`${this.function.fn.functionArn}:*`)}]`,
        reason: 'Step Functions invokes this one function; the :* suffix covers its versions and aliases only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The log delivery actions Step Functions needs to log to CloudWatch (logs:CreateLogDelivery, ...) support no resource-level permissions.',
      },
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: 'A GC run is a loop of one Lambda step; its logs and the report under gc/ say what it did. X-Ray traces would add nothing.',
    });

    this.schedule = new scheduler.Schedule(this, 'GcSchedule', {
      scheduleName: gcName(config),
      description: `Garbage collection of registry ${config.name} every ${config.gc.everyHours} h (docs/gc.md)`,
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(config.gc.everyHours)),
      enabled: config.gc.enabled,
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ dryRun: false }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
