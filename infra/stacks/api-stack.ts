// The API of one region: an HTTP API (route throttling, JSON access logs) in front of the API
// Lambda. The primary serves pushes and pulls; a replica region serves pulls from its local table
// replica and bucket when CloudFront fails a read over to it.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { acknowledgePrefixWildcards, dataStatements } from '../constructs/grants.ts';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { RegistryFunction } from '../constructs/registry-function.ts';
import { bucketArn, bucketName, replicaSecretArn, tableArn, tableName, upstreamSecretsArn, upstreamSecretsPrefix } from '../names.ts';
import { registryEnvironment } from '../runtime-env.ts';

/** The API's Powertools service name: the `service` dimension of its metrics (AuditWriteFailures). */
export const API_SERVICE = 'oci-registry-api';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The region this API runs in; the primary's or a replica's. */
  readonly region: string;
  /** ARNs of the secrets in the primary region. */
  readonly signingKeysSecretArn: string;
  readonly cdnPrivateKeySecretArn: string;
  readonly tokenKeysSecretArn: string;
  /** The value CloudFront sends in the origin-verify header (functions/aws/origin-guard.ts). */
  readonly originSecretArn: string;
  readonly cdnKeyPairId: string;
}


export class ApiStack extends Stack {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly function: RegistryFunction;
  /** host name of the API's execute-api endpoint, the CloudFront origin */
  readonly originDomainName: string;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, region } = props;
    const primary = region === config.region;
    const removalPolicy = config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Secrets Manager replicas keep the primary's name and suffix: only the region differs.
    const inRegion = (arn: string) => (primary ? arn : replicaSecretArn(this, arn));
    const signingKeysSecretArn = inRegion(props.signingKeysSecretArn);
    const cdnPrivateKeySecretArn = inRegion(props.cdnPrivateKeySecretArn);
    // Token auth is on in every environment.
    const tokenKeysSecretArn = inRegion(props.tokenKeysSecretArn);
    const originSecretArn = inRegion(props.originSecretArn);

    this.function = new RegistryFunction(this, 'ApiFunction', {
      bundle: 'api',
      memorySize: 1024,
      // HTTP API gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      removalPolicy,
      environment: registryEnvironment(config, {
        service: API_SERVICE,
        tableName: tableName(config),
        bucketName: bucketName(config, region),
        signingKeysSecretArn,
        cdnPrivateKeySecretArn,
        cdnKeyPairId: props.cdnKeyPairId,
        tokenKeysSecretArn,
      }, {
        ORIGIN_SECRET_ARN: originSecretArn,
        ...(config.replicaRegions.length > 0 ? { REGISTRY_PRIMARY_REGION: config.region } : {}),
        // Proxy projects fetch from their upstreams in the primary region only (a replica may not write).
        ...(primary ? { REGISTRY_UPSTREAM_SECRETS_PREFIX: upstreamSecretsPrefix(config) } : {}),
        // dockerd's registry-mirrors paths map into this project on the primary only: a replica's API
        // has no proxy (functions/aws/proxy.ts), so the mapping would not run there.
        ...(primary && config.proxyMirror ? { REGISTRY_PROXY_MIRROR: config.proxyMirror } : {}),
      }),
    });
    const statements = [
      ...dataStatements(primary ? 'read-write' : 'read-only', tableArn(config, region), bucketArn(config, region)),
      new iam.PolicyStatement({
        sid: 'ReadKeys',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [signingKeysSecretArn, cdnPrivateKeySecretArn, originSecretArn, tokenKeysSecretArn],
      }),
    ];
    for (const s of statements) this.function.role.addToPolicy(s);
    acknowledgePrefixWildcards(this.function.role, statements.flatMap((s) => s.resources).filter((r) => r.endsWith('/*')));
    if (primary) {
      // Proxy projects' upstream credentials (functions/adapters/secretsmanager): read, never listed or
      // written (the admin CLI creates them with the operator's own credentials).
      const upstreamSecrets = upstreamSecretsArn(this, config);
      this.function.role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadUpstreamCredentials', actions: ['secretsmanager:GetSecretValue'], resources: [upstreamSecrets] }));
      Validations.of(this.function.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(upstreamSecrets))}]`,
        reason: 'One secret per proxy project, created when the project is (npm run admin -- --aws): the name prefix of the environment is the narrowest grant; GetSecretValue only.',
      });
      // A delete purges the repository from the CDN (adapters/cloudfront). The distribution is made
      // after this stack (it needs the API's address), so its id is not known here: the API uses the
      // id the read-routing function writes into each request, and may invalidate, nothing else.
      const distributions = `arn:${Stack.of(this).partition}:cloudfront::${Stack.of(this).account}:distribution/*`;
      this.function.role.addToPolicy(new iam.PolicyStatement({ sid: 'PurgeCdn', actions: ['cloudfront:CreateInvalidation'], resources: [distributions] }));
      Validations.of(this.function.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(distributions))}]`,
        reason: 'CreateInvalidation only; the distribution is created after the API (it needs its address), so its id is read from each DELETE request, written there by the read-routing CloudFront Function.',
      });
    }

    this.api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${this.stackName}`,
      description: `OCI registry ${config.name} API (${primary ? 'primary' : 'replica'}, ${region})`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Lambda', this.function.fn, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttle.rateLimit, burstLimit: config.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'The registry authorizes every request itself (Docker token auth in every environment, signed upload tokens).',
    });
    this.originDomainName = `${this.api.apiId}.execute-api.${region}.${this.urlSuffix}`;
  }
}

/** One JSON line per request; no Authorization header, no query string (upload tokens). */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTimeEpoch',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  bytes: '$context.responseLength',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  error: '$context.integrationErrorMessage',
};
