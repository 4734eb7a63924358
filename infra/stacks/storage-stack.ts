// Storage of the primary region: the DynamoDB single table (a global table with a replica in each
// replica region) and the primary blob bucket, replicating to the replica buckets and notifying
// the events Lambda of new objects.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { BlobBucket } from '../constructs/blob-bucket.ts';
import { bucketName, EDGE_UPLOAD_PREFIX, eventsFunctionArn, KEY_PREFIXES, tableName } from '../names.ts';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

export interface StorageStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly distributionArn: string;
}

/** Prefixes copied to the replica buckets; uploads in progress stay in the primary. */
export const REPLICATED_PREFIXES = [KEY_PREFIXES.blobs, KEY_PREFIXES.manifests] as const;
/** Prefixes whose new objects go to the events Lambda: the edge's uploads only (the API and ingest record their own). */
export const EVENT_PREFIXES = [EDGE_UPLOAD_PREFIX] as const;

export function replicationRuleId(prefix: string, region: string): string {
  return `${prefix.replace('/', '')}-to-${region}`;
}

export class StorageStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: tableName(config),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.retain,
      removalPolicy,
      replicas: config.replicaRegions.map((region) => ({ region, deletionProtection: config.retain })),
    });

    // One rule per replicated prefix and replica region. Delete markers follow, so a blob GC
    // deletes in the primary disappears from the replicas too.
    let priority = 0;
    const destinations: s3.IBucket[] = [];
    const replicationRules: s3.ReplicationRule[] = config.replicaRegions.flatMap((region) => {
      const destination = s3.Bucket.fromBucketAttributes(this, `Replica-${region}`, { bucketName: bucketName(config, region), region });
      destinations.push(destination);
      return REPLICATED_PREFIXES.map((prefix) => ({
        id: replicationRuleId(prefix, region),
        destination,
        priority: priority++,
        filter: { prefix },
        deleteMarkerReplication: true,
        metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
      }));
    });

    this.bucket = new BlobBucket(this, 'Blobs', {
      env: config,
      region: config.region,
      distributionArn: props.distributionArn,
      replicationRules,
      edgeUploads: true,
      role: 'primary',
    }).bucket;

    const replicationRole = this.bucket.node.tryFindChild('ReplicationRole');
    if (replicationRole) {
      const flat = (arn: string) => flattenCfnReference(this.resolve(arn));
      for (const arn of [`${this.bucket.bucketArn}/*`, ...destinations.map((d) => `${d.bucketArn}/*`)]) {
        Validations.of(replicationRole).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${flat(arn)}]`,
          reason: 'S3 replication reads every version of the replicated prefixes and writes them under the same keys in the destination: the role needs the bucket-wide object ARN.',
        });
      }
    }

    // Notifications without CDK's notifications custom resource: the events function has a fixed
    // name (events stack deploys first and grants s3.amazonaws.com the invoke on this bucket).
    const cfnBucket = this.bucket.node.defaultChild as CfnBucket;
    cfnBucket.notificationConfiguration = {
      lambdaConfigurations: EVENT_PREFIXES.map((prefix) => ({
        event: 's3:ObjectCreated:*',
        function: eventsFunctionArn(config),
        filter: { s3Key: { rules: [{ name: 'prefix', value: prefix }] } },
      })),
    };
  }
}
