// Events: the Lambda that records blobs the CloudFront edge wrote into the primary bucket
// (blobs/r/<repo>/sha256/<hex>). The bucket's notification configuration (storage stack) names this
// function by its fixed name, so this stack deploys first and owns the invoke permission.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { acknowledgePrefixWildcards, dataStatements } from '../constructs/grants.ts';
import { RegistryFunction } from '../constructs/registry-function.ts';
import { bucketArn, bucketName, eventsFunctionName, tableArn, tableName } from '../names.ts';
import { registryEnvironment } from '../runtime-env.ts';

export interface EventsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /**
   * The signing keys secret: the runtime's config (functions/aws/config.ts) requires KEYS_SECRET_ARN
   * and createAwsDeps reads it at start, although recording a blob signs nothing.
   */
  readonly signingKeysSecretArn: string;
}

export class EventsStack extends Stack {
  readonly function: RegistryFunction;

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.function = new RegistryFunction(this, 'EventsFunction', {
      bundle: 'events',
      functionName: eventsFunctionName(config),
      memorySize: 512,
      timeout: Duration.seconds(60),
      removalPolicy: config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      environment: registryEnvironment(config, {
        service: 'oci-registry-events',
        tableName: tableName(config),
        bucketName: bucketName(config, config.region),
        signingKeysSecretArn: props.signingKeysSecretArn,
      }),
    });
    const statements = [
      ...dataStatements('events', tableArn(config, config.region), bucketArn(config, config.region)),
      new iam.PolicyStatement({ sid: 'ReadSigningKeys', actions: ['secretsmanager:GetSecretValue'], resources: [props.signingKeysSecretArn] }),
    ];
    for (const s of statements) this.function.role.addToPolicy(s);
    acknowledgePrefixWildcards(this.function.role, statements.flatMap((s) => s.resources).filter((r) => r.endsWith('/*')));

    new lambda.CfnPermission(this, 'InvokeFromBucket', {
      action: 'lambda:InvokeFunction',
      functionName: this.function.fn.functionArn,
      principal: 's3.amazonaws.com',
      sourceArn: bucketArn(config, config.region),
      sourceAccount: this.account,
    });
    // S3 retries asynchronous invocations; a record that still fails is kept for a day in the
    // function's own failure metrics (alarmed) rather than in a queue nobody reads.
    this.function.fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
  }
}
