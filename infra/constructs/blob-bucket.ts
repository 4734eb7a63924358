// The blob bucket of one region: private, TLS-only, encrypted, versioned, with the upload
// lifecycle, and readable by exactly one CloudFront distribution through Origin Access Control.
// The primary bucket also takes the edge fast path's PUTs from that distribution under
// blobs/r/, and from nobody else: a key there always means "written by the edge, checksum verified
// by S3" (docs/edge.md), which is what the events Lambda and the manifest PUT rely on.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config.ts';
import { bucketName, EDGE_UPLOAD_PREFIX, KEY_PREFIXES, PENDING_TAG, UPLOAD_BLOB_PREFIX } from '../names.ts';

export interface BlobBucketProps {
  readonly env: EnvironmentConfig;
  readonly region: string;
  /** ARN of the distribution allowed to read `blobs/*` (the OAC principal's SourceArn). */
  readonly distributionArn: string;
  readonly replicationRules?: s3.ReplicationRule[];
  /** Accept the edge fast path's PutObject under blobs/r/ from the distribution (primary bucket). */
  readonly edgeUploads?: boolean;
  /**
   * The primary's bucket (the registry writes here) or a replica's (replication writes here). A
   * replica has no rule that expires a current object: see `lifecycleRules`.
   */
  readonly role: 'primary' | 'replica';
}

/**
 * The lifecycle of a region's bucket (docs/deploy.md, "Lifecycle rules in every region", lists which
 * objects each rule can match). In the primary, current objects expire in exactly two places: uploads/
 * (segments of sessions, never a blob) and blobs/by-upload/ objects tagged pending (a session's first
 * segment at its final key, the tag removed when the blob is committed). A replica gets neither: its
 * objects arrive by replication with the tags they had when copied, and nothing guarantees that the
 * tag's removal at commit reaches the replica before a rule there would fire, so a pending rule in a
 * replica could expire a committed blob. Uploads are not replicated at all. In every region, deleted
 * objects (noncurrent versions, and delete markers with nothing behind them) go after a week.
 */
export function lifecycleRules(role: 'primary' | 'replica'): s3.LifecycleRule[] {
  const everywhere: s3.LifecycleRule[] = [
    { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    // Blobs and manifests deleted by GC stay restorable for a week, then go for good.
    { id: 'expire-deleted-versions', noncurrentVersionExpiration: Duration.days(7), expiredObjectDeleteMarker: true },
  ];
  if (role === 'replica') return everywhere;
  return [
    everywhere[0]!,
    { id: 'expire-stale-uploads', prefix: KEY_PREFIXES.uploads, expiration: Duration.days(2), noncurrentVersionExpiration: Duration.days(1) },
    // An upload's first segment written at its final key, never committed (the tag is cleared at commit).
    { id: 'expire-pending-upload-blobs', prefix: UPLOAD_BLOB_PREFIX, tagFilters: { [PENDING_TAG.key]: PENDING_TAG.value }, expiration: Duration.days(2) },
    everywhere[1]!,
  ];
}

export class BlobBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BlobBucketProps) {
    super(scope, id);
    const { env } = props;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: bucketName(env, props.region),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy: env.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
      ...(props.replicationRules?.length ? { replicationRules: props.replicationRules } : {}),
      lifecycleRules: lifecycleRules(props.role),
    });
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudFrontOacReadsBlobs',
      principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
      actions: ['s3:GetObject'],
      resources: [this.bucket.arnForObjects(`${KEY_PREFIXES.blobs}*`)],
      conditions: { StringEquals: { 'AWS:SourceArn': props.distributionArn } },
    }));
    if (props.edgeUploads) {
      const edgeObjects = this.bucket.arnForObjects(`${EDGE_UPLOAD_PREFIX}*`);
      this.bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudFrontOacWritesEdgeUploads',
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [edgeObjects],
        conditions: { StringEquals: { 'AWS:SourceArn': props.distributionArn } },
      }));
      // Everyone else, the registry's own roles and administrators included, is refused: requests
      // signed by a principal carry no aws:SourceArn, so StringNotEquals holds for them. PutObject
      // also authorizes multipart uploads and copies into the prefix. Replication writes with
      // s3:ReplicateObject into the replica buckets, which have no such statement.
      this.bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'OnlyTheEdgeWritesEdgeUploads',
        effect: iam.Effect.DENY,
        principals: [new iam.StarPrincipal()],
        actions: ['s3:PutObject'],
        resources: [edgeObjects],
        conditions: { StringNotEquals: { 'AWS:SourceArn': props.distributionArn } },
      }));
    }
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Server access logs would need one more bucket per region; reads are logged by CloudFront and API Gateway access logs, writes by the registry itself.',
    });
  }
}
