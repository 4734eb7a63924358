// Ingest (optional per environment): the streaming upload server on Fargate (arm64) behind an
// internal ALB that CloudFront reaches as a VPC origin, scaling on CPU and on requests per task.
// No NAT gateway: tasks run in public subnets with a public IP (ingress only from the ALB), and
// S3/DynamoDB traffic stays on gateway endpoints.
import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import type { EnvironmentConfig } from '../config.ts';
import { acknowledgePrefixWildcards, dataStatements } from '../constructs/grants.ts';
import { bundlePath } from '../constructs/registry-function.ts';
import { bucketArn, bucketName, tableArn, tableName } from '../names.ts';
import { registryEnvironment } from '../runtime-env.ts';

export const INGEST_DOCKERFILE = 'functions/apps/ingest/Dockerfile';
export const INGEST_PORT = 8080;
export const INGEST_VPC_CIDR = '10.64.0.0/16';

export interface IngestStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly signingKeysSecretArn: string;
  readonly tokenKeysSecretArn: string;
}

export class IngestStack extends Stack {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  readonly vpcOrigin: cloudfront.VpcOrigin;
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(INGEST_VPC_CIDR),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'tasks', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'alb', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // The tasks' subnets: table and bucket traffic never leaves the AWS network.
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [{ subnetType: ec2.SubnetType.PUBLIC }] },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [{ subnetType: ec2.SubnetType.PUBLIC }] },
      },
    });
    vpc.addFlowLog('RejectedFlows', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.TWO_WEEKS, removalPolicy })),
    });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Registry ingest task',
    });
    const statements = [
      ...dataStatements('ingest', tableArn(config, config.region), bucketArn(config, config.region)),
      new iam.PolicyStatement({ sid: 'ReadKeys', actions: ['secretsmanager:GetSecretValue'], resources: [props.signingKeysSecretArn, props.tokenKeysSecretArn] }),
    ];
    for (const s of statements) this.taskRole.addToPolicy(s);
    acknowledgePrefixWildcards(this.taskRole, statements.flatMap((s) => s.resources).filter((r) => r.endsWith('/*')));

    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 1024,
      memoryLimitMiB: 2048,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });
    const container = task.addContainer('ingest', {
      image: ingestImage(),
      portMappings: [{ containerPort: INGEST_PORT }],
      environment: registryEnvironment(
        config,
        {
          service: 'oci-registry-ingest',
          tableName: tableName(config),
          bucketName: bucketName(config, config.region),
          signingKeysSecretArn: props.signingKeysSecretArn,
          tokenKeysSecretArn: props.tokenKeysSecretArn,
        },
        { PORT: String(INGEST_PORT), AWS_REGION: config.region },
      ),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'ingest',
        logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy }),
      }),
      stopTimeout: Duration.seconds(120),
    });
    Validations.of(task.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions; every other statement of the execution role names its repository or log group.',
    });
    Validations.of(task).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds resource names, the region and the secret ARN, never a secret value; the keys are read from Secrets Manager at run time.',
    });

    const albSg = new ec2.SecurityGroup(this, 'AlbSg', { vpc, allowAllOutbound: false, description: 'Ingest ALB: CloudFront VPC origin only' });
    // Internal ALB: only addresses inside the VPC reach it, i.e. CloudFront's VPC origin ENIs.
    albSg.addIngressRule(ec2.Peer.ipv4(INGEST_VPC_CIDR), ec2.Port.tcp(80), 'CloudFront VPC origin');
    const taskSg = new ec2.SecurityGroup(this, 'TaskSg', { vpc, allowAllOutbound: true, description: 'Ingest tasks: from the ALB only' });
    taskSg.addIngressRule(albSg, ec2.Port.tcp(INGEST_PORT), 'ALB to ingest');
    albSg.addEgressRule(taskSg, ec2.Port.tcp(INGEST_PORT), 'ALB to ingest');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: task,
      desiredCount: config.ingestScaling.minTasks,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [taskSg],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroup: albSg,
      // Whole layers stream through one request.
      idleTimeout: Duration.seconds(300),
      dropInvalidHeaderFields: true,
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'The ingest service logs every request itself (JSON to CloudWatch); ALB access logs would need an extra bucket per environment.',
    });
    const listener = this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: false });
    this.targetGroup = listener.addTargets('Ingest', {
      port: INGEST_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: INGEST_PORT })],
      healthCheck: { path: '/healthz', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
      deregistrationDelay: Duration.seconds(120),
    });

    const scaling = this.service.autoScaleTaskCount({ minCapacity: config.ingestScaling.minTasks, maxCapacity: config.ingestScaling.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60, scaleOutCooldown: Duration.seconds(60), scaleInCooldown: Duration.seconds(300) });
    scaling.scaleOnRequestCount('Requests', { requestsPerTarget: 300, targetGroup: this.targetGroup, scaleOutCooldown: Duration.seconds(60), scaleInCooldown: Duration.seconds(300) });

    this.vpcOrigin = new cloudfront.VpcOrigin(this, 'VpcOrigin', {
      endpoint: cloudfront.VpcOriginEndpoint.applicationLoadBalancer(this.loadBalancer),
      vpcOriginName: `${this.stackName}`.slice(0, 64),
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      httpPort: 80,
    });
  }

  /**
   * The first two zones as Fn::GetAZs resolves them at deploy time, as for an account-agnostic
   * stack: with the account pinned CDK would otherwise look the zones up, which needs credentials.
   */
  override get availabilityZones(): string[] {
    return [0, 1].map((i) => Fn.select(i, Fn.getAzs()));
  }
}

function ingestImage(): ecs.ContainerImage {
  bundlePath('ingest');
  if (!existsSync(INGEST_DOCKERFILE)) throw new Error(`${INGEST_DOCKERFILE} is missing: the ingest image is built from it`);
  // Build context: the project root, reduced to what the Dockerfile copies.
  return ecs.ContainerImage.fromAsset('.', {
    file: INGEST_DOCKERFILE,
    platform: Platform.LINUX_ARM64,
    exclude: ['**', '!dist/ingest/**', `!${INGEST_DOCKERFILE}`],
  });
}
