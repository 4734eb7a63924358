// Which AWS failures are "try again later": throttling, SlowDown, contention, 5xx and timeouts that
// outlasted the SDK's own retries. Never a 500: throttling and contention ("too many requests at
// once") become 429 TOOMANYREQUESTS, everything else 503 UNAVAILABLE, both with Retry-After.
// 429 because the OCI spec pairs TOOMANYREQUESTS with it, and clients retry it: skopeo 1.9.3 and
// containerd 1.6.20 fail a pull at once on a 503 and retry a 429 (measured, docs/proxy.md).
// Classified by the error's name and SDK metadata shape only, so no AWS SDK type is imported.
import { RegistryError } from '../core/errors.ts';
import { permissionDenied } from './permission-errors.ts';

/** Error names of AWS throttling and of contention: too many requests at once (429). */
const BUSY_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  // The DynamoDB adapter's own: a race it kept losing after its retries (high contention on one key).
  'MetadataContentionError',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  // DynamoDB: another transaction holds the item; retrying later succeeds.
  'TransactionConflictException',
  'TransactionInProgressException',
]);

/** Error names of AWS throttling, overload and transient service faults (DynamoDB, S3, STS, Secrets Manager...). */
const RETRYABLE_NAMES = new Set([
  ...BUSY_NAMES,
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Cancellation reasons of a DynamoDB transaction that mean "busy", not "your condition failed". */
const RETRYABLE_CANCELLATIONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** Node socket errors the SDK surfaces when retries ran out on a flaky connection. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  CancellationReasons?: { Code?: unknown }[];
}

export interface ClassifyOptions {
  /** Seconds clients are asked to wait (Retry-After). */
  retryAfterSeconds?: number;
}

/** The reason an error is retryable, or undefined when it is not a transient AWS failure. */
export function retryableReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((r) => r?.Code).filter((c): c is string => typeof c === 'string' && c !== 'None');
    // A failed condition is a real outcome for the adapter to handle, never "try again".
    return codes.length > 0 && codes.every((c) => RETRYABLE_CANCELLATIONS.has(c)) ? `${name}: ${codes.join(',')}` : undefined;
  }
  if (RETRYABLE_NAMES.has(name)) return name;
  if (e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false) return name || 'retryable';
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return `${name || 'AWS error'} (HTTP ${status})`;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  return undefined;
}

/**
 * Whether a retryable error (retryableReason) is throttling or contention, i.e. too many requests at
 * once, rather than a fault of the service or the network.
 */
function isBusy(error: unknown): boolean {
  const e = error as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  // Its cancellation reasons are all "busy" ones when it is retryable at all.
  if (name === 'TransactionCanceledException' || BUSY_NAMES.has(name)) return true;
  const retryable = e.$retryable as { throttling?: unknown } | null | undefined;
  if (typeof retryable === 'object' && retryable !== null && retryable.throttling === true) return true;
  return e.$metadata?.httpStatusCode === 429;
}

/**
 * For createRegistry's `classifyError`: AWS throttling and contention -> 429 TOOMANYREQUESTS, other
 * transient AWS failures -> 503 UNAVAILABLE, both with Retry-After;
 * IAM refusing the registry's own call -> 500 that says storage access was denied, with the action.
 */
export function classifyAwsError(error: unknown, opts: ClassifyOptions = {}): RegistryError | undefined {
  const denied = permissionDenied(error);
  if (denied) return new RegistryError('UNKNOWN', { reason: 'the registry was denied access to its own storage (a deployment fault)', action: denied.action }, { message: 'storage access denied' });
  const reason = retryableReason(error);
  if (reason === undefined) return undefined;
  const headers = { 'retry-after': String(opts.retryAfterSeconds ?? 1) };
  if (isBusy(error)) return new RegistryError('TOOMANYREQUESTS', { reason: 'backend busy, retry later', cause: reason }, { headers });
  return new RegistryError('UNAVAILABLE', { reason: 'backend temporarily unavailable, retry later', cause: reason }, { message: 'service temporarily unavailable', headers });
}
