// Deterministic physical names. Stacks in different regions refer to each other's resources by
// these names instead of by CloudFormation references, which keeps the stack graph acyclic
// (storage -> events, api -> storage) and avoids cross-region exports where a name will do.
import { ArnFormat, Aws } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';
import type { EnvironmentConfig } from './config.ts';
import { upstreamSecretPrefix } from '../functions/adapters/secretsmanager/sm-upstream-secrets.ts';

export const PREFIX = 'oci-registry';

/** CloudFront's stacks (the distribution, its functions and certificate) live in us-east-1. */
export const EDGE_REGION = 'us-east-1';

/** Key prefixes in the blob bucket; IAM grants are scoped to them. */
export const KEY_PREFIXES = { blobs: 'blobs/', uploads: 'uploads/', manifests: 'manifests/' } as const;

/**
 * Where the CloudFront edge writes whole blobs (`blobs/r/<repo>/sha256/<hex>`, checksum verified by
 * S3): only the distribution may write there, and only objects created there go to the events
 * Lambda. The runtime's own constant, so the two cannot drift apart.
 */
export { EDGE_UPLOAD_PREFIX } from '../functions/adapters/s3/edge-upload-keys.ts';

/**
 * Where blobs committed from upload sessions live, and the tag of an object there that is an
 * upload's first segment not (yet) committed: the lifecycle expires those (docs/s3-blob-store.md).
 */
export { PENDING_TAG, UPLOAD_BLOB_PREFIX } from '../functions/adapters/s3/s3-keys.ts';

/** The partition key prefix of the failed-login counters: a replica region's API may write those items only. */
export { LOGIN_PK_PREFIX } from '../functions/adapters/dynamodb/keys.ts';
/** The partition key prefix of audit entries: a replica region's API writes those too (logins served there). */
export { AUDIT_PK_PREFIX } from '../functions/adapters/dynamodb/keys.ts';

/** Where the GC Lambda keeps its runs' state and reports (not replicated, never collected). */
export { GC_PREFIX } from '../functions/adapters/s3/gc-runs.ts';

export function stackName(env: EnvironmentConfig, part: string, region?: string): string {
  const base = `OciRegistry-${env.name}-${part}`;
  return region ? `${base}-${region}` : base;
}

export function tableName(env: EnvironmentConfig): string {
  return `${PREFIX}-${env.name}`;
}

export function tableArn(env: EnvironmentConfig, region: string): string {
  return `arn:${Aws.PARTITION}:dynamodb:${region}:${Aws.ACCOUNT_ID}:table/${tableName(env)}`;
}

/** Bucket names are global: account and region make them unique. */
export function bucketName(env: EnvironmentConfig, region: string): string {
  return `${PREFIX}-${env.name}-${Aws.ACCOUNT_ID}-${region}`;
}

export function bucketArn(env: EnvironmentConfig, region: string): string {
  return `arn:${Aws.PARTITION}:s3:::${bucketName(env, region)}`;
}

export function bucketRegionalDomainName(env: EnvironmentConfig, region: string): string {
  return `${bucketName(env, region)}.s3.${region}.${Aws.URL_SUFFIX}`;
}

export function eventsFunctionName(env: EnvironmentConfig): string {
  return `${PREFIX}-${env.name}-events`;
}

export function eventsFunctionArn(env: EnvironmentConfig): string {
  return `arn:${Aws.PARTITION}:lambda:${env.region}:${Aws.ACCOUNT_ID}:function:${eventsFunctionName(env)}`;
}

/** The GC Lambda and the state machine that runs it step by step (gc stack). */
export function gcName(env: EnvironmentConfig): string {
  return `${PREFIX}-${env.name}-gc`;
}

export function gcStateMachineArn(env: EnvironmentConfig): string {
  return `arn:${Aws.PARTITION}:states:${env.region}:${Aws.ACCOUNT_ID}:stateMachine:${gcName(env)}`;
}

/** The upload-keys publisher (edge stack, us-east-1): invoke it after rotating the signing keys. */
export function uploadKeysFunctionName(env: EnvironmentConfig): string {
  return `${PREFIX}-${env.name}-upload-keys`;
}

export function keysSecretName(env: EnvironmentConfig): string {
  return `${PREFIX}/${env.name}/signing-keys`;
}

export function tokenKeysSecretName(env: EnvironmentConfig): string {
  return `${PREFIX}/${env.name}/token-keys`;
}

/** The Lambda Secrets Manager invokes to rotate the token keys secret (keys stack, primary region). */
export function tokenKeyRotationName(env: EnvironmentConfig): string {
  return `${PREFIX}-${env.name}-token-key-rotation`;
}

/** The value CloudFront sends to the API origins (functions/aws/origin-guard.ts); also replicated to us-east-1. */
export function originSecretName(env: EnvironmentConfig): string {
  return `${PREFIX}/${env.name}/origin-verify`;
}

/**
 * Proxy projects' upstream credentials: one secret per project, `<prefix><project>`, created by the
 * admin CLI (`npm run admin -- --aws --env <env> project create <p> --proxy ...`), read by the API.
 */
export function upstreamSecretsPrefix(env: EnvironmentConfig): string {
  return upstreamSecretPrefix(env.name);
}

/** Every upstream secret of the environment in `region` (the name plus Secrets Manager's random suffix). */
export function upstreamSecretsArn(stack: Stack, env: EnvironmentConfig): string {
  return stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${upstreamSecretsPrefix(env)}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

export function cdnPrivateKeySecretName(env: EnvironmentConfig): string {
  return `${PREFIX}/${env.name}/cdn-private-key`;
}

/**
 * A secret's ARN in a region it is replicated to: Secrets Manager keeps the name and the random
 * suffix, only the region differs. `primaryArn` may be a token.
 */
export function replicaSecretArn(stack: Stack, primaryArn: string): string {
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: stack.splitArn(primaryArn, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
