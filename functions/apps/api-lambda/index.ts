// The deployed API Lambda: the middy handler over the registry wired to DynamoDB and S3. The deps are
// built once per container, on the first request (so a failure there is answered, not a crash).
import { createAwsDeps, createAwsRegistry, warnTokenKeysError } from '../../aws/deps.ts';
import { readAwsConfig } from '../../aws/config.ts';
import type { Registry } from '../../core/registry.ts';
import { awsRegistryHooks } from '../../aws/registry-hooks.ts';
import { createApiHandler, defaultLogger } from './handler.ts';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudFrontCache } from '../../adapters/cloudfront/cloudfront-cache.ts';

const logger = defaultLogger();
// CloudFront's API is global: its endpoint is in us-east-1, whatever region this Lambda runs in.
const cdn = new CloudFrontCache(new CloudFrontClient({ region: 'us-east-1' }), (error, detail) =>
  logger.error('CDN purge failed: the entries live out their max-age', { ...detail, error: error instanceof Error ? error.message : String(error) }));
let registry: Promise<Registry> | undefined;
const onTokenKeysError = warnTokenKeysError(logger);

function getRegistry(): Promise<Registry> {
  registry ??= createAwsDeps(readAwsConfig(), { onTokenKeysError }).then((deps) => createAwsRegistry(deps, { ...awsRegistryHooks(logger), sharedCache: cdn }));
  // A failed start is retried on the next request rather than cached.
  registry.catch(() => (registry = undefined));
  return registry;
}

// One invocation at a time here: its stdout lines leave in one write.
export const handler = createApiHandler(getRegistry, { logger, holdOutput: true });
