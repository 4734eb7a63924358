// The hooks every AWS entry point that serves the registry (the API Lambda, the ingest service) passes
// to createRegistry: transient AWS failures become 429 TOOMANYREQUESTS (throttling, contention) or
// 503 UNAVAILABLE with Retry-After (errors.ts), and every
// unexpected error is logged once, without the request's query or headers.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RegistryRequest } from '../core/http.ts';
import type { RegistryOptions } from '../core/registry.ts';
import { classifyAwsError, retryableReason } from './errors.ts';
import { permissionDenied } from './permission-errors.ts';

/**
 * What an unexpected error may say in a log: its name and message, never the request's query or
 * headers. `errorMessage`, not `message`: Powertools reserves `message` for the log line's own and
 * drops a field of that name.
 */
function errorFields(error: unknown): Record<string, string | number | undefined> {
  if (!(error instanceof Error)) return { error: String(error).slice(0, 500) };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return { error: error.name, errorMessage: error.message.slice(0, 500), awsStatus: status, stack: error.stack?.split('\n').slice(0, 6).join('\n') };
}

/**
 * The hooks to pass to createRegistry: transient AWS failures become
 * 429 TOOMANYREQUESTS or 503 UNAVAILABLE with Retry-After, and every unexpected error is logged once.
 */
export function awsRegistryHooks(logger: Logger, opts: { retryAfterSeconds?: number } = {}): Pick<RegistryOptions, 'classifyError' | 'onError'> & { logger: Logger } {
  return {
    logger,
    classifyError: (e) => classifyAwsError(e, opts),
    onError: (e: unknown, req: RegistryRequest) => {
      const fields = { method: req.method, path: req.path, ...errorFields(e) };
      const denied = permissionDenied(e);
      if (denied) logger.error('permission denied', { ...fields, ...denied });
      else if (retryableReason(e) !== undefined) logger.warn('backend busy', fields);
      else logger.error('unexpected error', fields);
    },
  };
}

