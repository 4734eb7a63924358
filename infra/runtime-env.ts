// The environment variables the registry's runtime code reads (api Lambda, events Lambda,
// ingest task): the one place the CDK app spells them.
import type { EnvironmentConfig } from './config.ts';

export const METRICS_NAMESPACE = 'OciRegistry';

export interface RuntimeResources {
  readonly service: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly signingKeysSecretArn?: string;
  readonly cdnPrivateKeySecretArn?: string;
  readonly cdnKeyPairId?: string;
}

export function registryEnvironment(config: EnvironmentConfig, r: RuntimeResources): Record<string, string> {
  return {
    TABLE_NAME: r.tableName,
    BUCKET_NAME: r.bucketName,
    REGISTRY_ACCESS: config.access,
    REGISTRY_PRIMARY_REGION: config.region,
    POWERTOOLS_SERVICE_NAME: r.service,
    POWERTOOLS_METRICS_NAMESPACE: `${METRICS_NAMESPACE}/${config.name}`,
    ...(r.signingKeysSecretArn ? { KEYS_SECRET_ARN: r.signingKeysSecretArn } : {}),
    ...(r.cdnPrivateKeySecretArn ? { CDN_PRIVATE_KEY_SECRET_ARN: r.cdnPrivateKeySecretArn } : {}),
    ...(r.cdnKeyPairId ? { CDN_KEY_PAIR_ID: r.cdnKeyPairId } : {}),
    ...(config.domain ? { CDN_URL: `https://${config.domain.name}` } : {}),
  };
}

/** Powertools metrics (Count, dimension service) the dashboard reads: one per manifest PUT / GET. */
export const PUSH_METRIC = 'Pushes';
export const PULL_METRIC = 'Pulls';
