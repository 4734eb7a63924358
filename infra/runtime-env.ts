// The environment the CDK app sets on the registry's processes (API Lambda, events Lambda, ingest
// task), by the names of the runtime's contract (functions/aws/env-contract.ts): a name that is not
// in the contract does not type-check.
import { runtimeEnvironment, type RuntimeEnvironment } from '../functions/aws/env-contract.ts';
import type { EnvironmentConfig } from './config.ts';

export const METRICS_NAMESPACE = 'OciRegistry';

export interface RuntimeResources {
  readonly service: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly signingKeysSecretArn?: string;
  readonly cdnPrivateKeySecretArn?: string;
  readonly cdnKeyPairId?: string;
  /** The token keys secret: Docker token authentication (every environment). */
  readonly tokenKeysSecretArn?: string;
}

export function registryEnvironment(config: EnvironmentConfig, r: RuntimeResources, extra: RuntimeEnvironment = {}): Record<string, string> {
  const env: RuntimeEnvironment = {
    TABLE_NAME: r.tableName,
    BUCKET_NAME: r.bucketName,
    POWERTOOLS_SERVICE_NAME: r.service,
    POWERTOOLS_METRICS_NAMESPACE: `${METRICS_NAMESPACE}/${config.name}`,
    ...(r.signingKeysSecretArn ? { KEYS_SECRET_ARN: r.signingKeysSecretArn } : {}),
    ...(r.cdnPrivateKeySecretArn ? { CDN_PRIVATE_KEY_SECRET_ARN: r.cdnPrivateKeySecretArn } : {}),
    ...(r.cdnKeyPairId ? { CDN_KEY_PAIR_ID: r.cdnKeyPairId } : {}),
    ...(config.domain ? { CDN_URL: `https://${config.domain.name}` } : {}),
    // Token auth in every environment. Its realm is the domain's URL; without a domain, CloudFront's
    // own host name, which exists only after the API, so the CloudFront Functions name it in each
    // request (functions/aws/public-url.ts), and the service is the environment's name.
    ...(r.tokenKeysSecretArn
      ? { TOKEN_KEYS_SECRET_ARN: r.tokenKeysSecretArn, ...(config.domain ? { REGISTRY_URL: `https://${config.domain.name}` } : { REGISTRY_AUTH_SERVICE: `oci-registry-${config.name}` }) }
      : {}),
  };
  return runtimeEnvironment({ ...env, ...extra });
}

/**
 * The API's Powertools metric the dashboard counts pushes and pulls with: Requests (Count) of the
 * operations manifest.put and manifest.get with statusClass 2xx (functions/apps/api-lambda/handler.ts).
 */
export const REQUESTS_METRIC = 'Requests';
export const PUSH_OPERATION = 'manifest.put';
export const PULL_OPERATION = 'manifest.get';
