// Storage of a replica region: the bucket the primary replicates blobs and manifests into. The
// table replica in this region belongs to the primary's global table (storage stack).
import { Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { BlobBucket } from '../constructs/blob-bucket.ts';

export interface ReplicaStorageStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly region: string;
  readonly distributionArn: string;
}

export class ReplicaStorageStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ReplicaStorageStackProps) {
    super(scope, id, props);
    this.bucket = new BlobBucket(this, 'Blobs', {
      env: props.config,
      region: props.region,
      distributionArn: props.distributionArn,
      role: 'replica',
    }).bucket;
  }
}
