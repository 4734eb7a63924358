// The GC Lambda's settings and its ports over AWS: the table and the bucket, and CloudFront's API to
// purge what a run deleted (GC signs no URL and reads no secret). Endpoints of local stand-ins come
// from AWS_ENDPOINT_URL_<SERVICE>.
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../adapters/dynamodb/dynamo-identity.ts';
import { DynamoMetadataStore } from '../adapters/dynamodb/dynamo-metadata.ts';
import { S3ManifestBodyStore } from '../adapters/s3/manifest-bodies.ts';
import { S3BlobStore } from '../adapters/s3/s3-blob-store.ts';
import { makeS3Client } from '../adapters/s3/s3-client.ts';
import { durationSetting } from '../config/duration.ts';
import { flagSetting, optionalSetting, requiredSetting, textSetting, type Env } from '../config/env-settings.ts';
import { GC_DEFAULTS, type GcDeps } from '../core/gc/run.ts';
import { projectRetention } from '../core/gc/retention.ts';
import { nameCommandsInErrors } from './permission-errors.ts';

export interface GcAwsConfig {
  region: string;
  tableName: string;
  bucketName: string;
  graceMs: number;
  untaggedMs: number;
  s3Endpoint?: string;
  dynamoEndpoint?: string;
  s3ForcePathStyle: boolean;
  /** The comment of the environment's CloudFront distribution, purged after a run (none: no purge). */
  cdnComment?: string;
}

export function readGcConfig(env: Env = process.env): GcAwsConfig {
  const any = optionalSetting(env, 'AWS_ENDPOINT_URL');
  const s3Endpoint = optionalSetting(env, 'AWS_ENDPOINT_URL_S3') ?? any;
  const dynamoEndpoint = optionalSetting(env, 'AWS_ENDPOINT_URL_DYNAMODB') ?? any;
  const cdnComment = optionalSetting(env, 'CDN_DISTRIBUTION_COMMENT');
  return {
    region: optionalSetting(env, 'AWS_REGION') ?? textSetting(env, 'AWS_DEFAULT_REGION', 'us-east-1'),
    tableName: requiredSetting(env, 'TABLE_NAME'),
    bucketName: requiredSetting(env, 'BUCKET_NAME'),
    graceMs: durationSetting(env, 'GC_GRACE', GC_DEFAULTS.graceMs),
    untaggedMs: durationSetting(env, 'GC_UNTAGGED', GC_DEFAULTS.untaggedMs),
    s3ForcePathStyle: flagSetting(env, 'S3_FORCE_PATH_STYLE', false),
    ...(s3Endpoint ? { s3Endpoint } : {}),
    ...(dynamoEndpoint ? { dynamoEndpoint } : {}),
    ...(cdnComment ? { cdnComment } : {}),
  };
}

export interface GcAwsDeps {
  gc: GcDeps;
  s3: S3Client;
  dynamo: DynamoDBClient;
  /** CloudFront's API (global, in us-east-1), when there is a distribution to purge. */
  cloudfront?: CloudFrontClient;
}

export function createGcAwsDeps(config: GcAwsConfig, credentials?: { accessKeyId: string; secretAccessKey: string }): GcAwsDeps {
  const creds = credentials ? { credentials } : {};
  const dynamo = new DynamoDBClient({ region: config.region, maxAttempts: 8, ...creds, ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}) });
  const s3 = makeS3Client({ region: config.region, ...creds, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}), forcePathStyle: config.s3ForcePathStyle, maxAttempts: 8 });
  nameCommandsInErrors(dynamo, 'dynamodb');
  nameCommandsInErrors(s3, 's3');
  const metadata = new DynamoMetadataStore({ client: dynamo, tableName: config.tableName, bodies: new S3ManifestBodyStore(s3, config.bucketName) });
  const blobs = new S3BlobStore({ client: s3, bucket: config.bucketName });
  // The projects' retention rules live in the same table (GetItem of a project item).
  const retention = projectRetention(new DynamoIdentityStore(DynamoDBDocumentClient.from(dynamo), config.tableName));
  const cloudfront = config.cdnComment === undefined ? undefined : new CloudFrontClient({ region: 'us-east-1', maxAttempts: 8, ...creds });
  return { gc: { metadata, blobs, now: Date.now, retention }, s3, dynamo, ...(cloudfront ? { cloudfront } : {}) };
}
