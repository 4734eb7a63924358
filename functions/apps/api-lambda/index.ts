// The deployed API Lambda: the middy handler over the registry wired to DynamoDB and S3. The deps are
// built once per container, on the first request (so a failure there is answered, not a crash).
import { createAwsDeps, createAwsRegistry } from '../../aws/deps.ts';
import { readAwsConfig } from '../../aws/config.ts';
import type { Registry } from '../../core/registry.ts';
import { awsRegistryHooks } from '../../aws/registry-hooks.ts';
import { createApiHandler, defaultLogger } from './handler.ts';

const logger = defaultLogger();
let registry: Promise<Registry> | undefined;

function getRegistry(): Promise<Registry> {
  registry ??= createAwsDeps(readAwsConfig()).then((deps) => createAwsRegistry(deps, awsRegistryHooks(logger)));
  // A failed start is retried on the next request rather than cached.
  registry.catch(() => (registry = undefined));
  return registry;
}

export const handler = createApiHandler(getRegistry, { logger });
