// The stacks of one environment, wired in an order CloudFormation can deploy:
//   keys, events, api (every region), ingest  ->  edge (us-east-1)  ->  replica storage  ->  storage
//   monitoring (per region) last.
// Resources in other regions are named by their fixed names (names.ts) where possible; the rest
// (API ids, the distribution ARN, key ids) cross regions as CDK references, which CDK renders as
// Fn::GetStackOutput (no custom resources).
import type { App, Environment, Stack } from 'aws-cdk-lib';
import type { EnvironmentConfig } from './config.ts';
import { RegistryDashboard } from './constructs/dashboard.ts';
import { bucketName, EDGE_REGION, eventsFunctionName, gcName, gcStateMachineArn, stackName, tokenKeyRotationName } from './names.ts';
import { API_SERVICE, ApiStack } from './stacks/api-stack.ts';
import { EdgeStack } from './stacks/edge-stack.ts';
import { EventsStack } from './stacks/events-stack.ts';
import { GC_SERVICE, GcStack } from './stacks/gc-stack.ts';
import { IngestStack } from './stacks/ingest-stack.ts';
import { KeysStack } from './stacks/keys-stack.ts';
import { MonitoringStack } from './stacks/monitoring-stack.ts';
import { ReplicaStorageStack } from './stacks/replica-storage-stack.ts';
import { REPLICATED_PREFIXES, replicationRuleId, StorageStack } from './stacks/storage-stack.ts';

export { EDGE_REGION };

export interface RegistryStacks {
  readonly config: EnvironmentConfig;
  readonly keys: KeysStack;
  readonly events: EventsStack;
  readonly apis: ApiStack[];
  readonly ingest?: IngestStack;
  readonly gc: GcStack;
  readonly edge: EdgeStack;
  readonly storage: StorageStack;
  readonly replicaStorage: ReplicaStorageStack[];
  readonly monitoring: MonitoringStack[];
  readonly all: Stack[];
}

export function addRegistry(app: App, config: EnvironmentConfig): RegistryStacks {
  /** Stack id and props: `part` in `region`, its name suffixed with the region where needed. */
  const place = (part: string, region: string, suffix?: string) => {
    const id = stackName(config, part, suffix);
    const env: Environment = { region, ...(config.account ? { account: config.account } : {}) };
    // crossRegionReferences: CDK renders references between regions as Fn::GetStackOutput.
    return [id, { env, stackName: id, crossRegionReferences: true, terminationProtection: config.retain, tags: { 'oci-registry:environment': config.name } }] as const;
  };
  const regional = (part: string, region: string) => place(part, region, region === config.region ? undefined : region);

  const keys = new KeysStack(app, ...withProps(place('Keys', config.region), { config }));
  const events = new EventsStack(app, ...withProps(place('Events', config.region), { config, signingKeysSecretArn: keys.signingKeys.secretArn }));

  const apis = [config.region, ...config.replicaRegions].map((region) => new ApiStack(app, ...withProps(regional('Api', region), {
    config,
    region,
    // The primary's ARNs; a replica rewrites them to its own region (Secrets Manager replicas).
    signingKeysSecretArn: keys.signingKeys.secretArn,
    cdnPrivateKeySecretArn: keys.cdnPrivateKey.secretArn,
    tokenKeysSecretArn: keys.tokenKeys.secretArn,
    originSecretArn: keys.originSecret.secretArn,
    cdnKeyPairId: keys.publicKey.publicKeyId,
  })));
  const primaryApi = apis[0]!;

  const ingest = config.ingest
    ? new IngestStack(app, ...withProps(place('Ingest', config.region), { config, signingKeysSecretArn: keys.signingKeys.secretArn, tokenKeysSecretArn: keys.tokenKeys.secretArn }))
    : undefined;

  // GC reads and deletes in the primary's table and bucket, by their fixed names.
  const gc = new GcStack(app, ...withProps(place('Gc', config.region), { config }));

  const edge = new EdgeStack(app, ...withProps(place('Edge', EDGE_REGION), {
    config,
    primaryApi: { region: config.region, domainName: primaryApi.originDomainName },
    replicaApis: apis.slice(1).map((a) => ({ region: a.region, domainName: a.originDomainName })),
    keyGroupId: keys.keyGroup.keyGroupId,
    signingKeysSecretArn: keys.signingKeys.secretArn,
    ...(ingest ? { ingest: { vpcOrigin: ingest.vpcOrigin, domainName: ingest.loadBalancer.loadBalancerDnsName } } : {}),
  }));
  const distributionArn = edge.distribution.distributionArn;

  const replicaStorage = config.replicaRegions.map((region) => new ReplicaStorageStack(app, ...withProps(regional('Storage', region), { config, region, distributionArn })));
  const storage = new StorageStack(app, ...withProps(place('Storage', config.region), { config, distributionArn }));
  // S3 checks the notification target and the replication destinations when the bucket is created.
  storage.addStackDependency(events, 'the bucket notifies the events function');
  for (const r of replicaStorage) storage.addStackDependency(r, 'replication needs the destination bucket');

  // Monitoring: one stack per region with metrics to alarm on.
  const monitoringByRegion = new Map<string, MonitoringStack>();
  const monitoringIn = (region: string) => {
    let stack = monitoringByRegion.get(region);
    if (!stack) {
      stack = new MonitoringStack(app, ...withProps(regional('Monitoring', region), { config, region }));
      monitoringByRegion.set(region, stack);
    }
    return stack;
  };
  const primaryMonitoring = monitoringIn(config.region);
  for (const api of apis) {
    monitoringIn(api.region).addApiAlarms({ region: api.region, apiId: api.api.apiId, functionName: api.function.fn.functionName }, API_SERVICE);
  }
  primaryMonitoring.addLambdaAlarms('Events', eventsFunctionName(config));
  // A failed rotation step (Secrets Manager retries it; the secret keeps its current key meanwhile).
  primaryMonitoring.addLambdaAlarms('TokenKeyRotation', tokenKeyRotationName(config));
  primaryMonitoring.addTableAlarm();
  primaryMonitoring.addGcAlarms({ stateMachineArn: gcStateMachineArn(config), functionName: gcName(config), service: GC_SERVICE, everyHours: config.gc.everyHours });
  for (const region of config.replicaRegions) {
    for (const prefix of REPLICATED_PREFIXES) {
      primaryMonitoring.addReplicationAlarm(bucketName(config, config.region), bucketName(config, region), replicationRuleId(prefix, region), region);
    }
  }
  if (ingest) primaryMonitoring.addIngestAlarm(ingest.loadBalancer.loadBalancerFullName, ingest.targetGroup.targetGroupFullName);
  monitoringIn(EDGE_REGION).addCloudFrontAlarm(edge.distribution.distributionId);
  new RegistryDashboard(primaryMonitoring, 'Dashboard', {
    config,
    apis: apis.map((a) => ({ region: a.region, apiId: a.api.apiId, functionName: a.function.fn.functionName })),
    distributionId: edge.distribution.distributionId,
    eventsFunctionName: eventsFunctionName(config),
    ...(ingest ? { ingest: { loadBalancerFullName: ingest.loadBalancer.loadBalancerFullName, targetGroupFullName: ingest.targetGroup.targetGroupFullName } } : {}),
  });
  const monitoring = [...monitoringByRegion.values()];

  const all: Stack[] = [keys, events, ...apis, ...(ingest ? [ingest] : []), gc, edge, ...replicaStorage, storage, ...monitoring];
  return { config, keys, events, apis, ...(ingest ? { ingest } : {}), gc, edge, storage, replicaStorage, monitoring, all };
}

function withProps<P extends object, Q extends object>(placed: readonly [string, P], props: Q): [string, P & Q] {
  return [placed[0], { ...placed[1], ...props }];
}
