// AWS throttling, SlowDown and contention that reach the handler are 429 TOOMANYREQUESTS, 5xx and
// timeouts 503 UNAVAILABLE, both with Retry-After, never a 500; the errors are real SDK exception objects (or shaped exactly like them).
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../../functions/aws/errors.ts';
import type { MetadataStore } from '../../../functions/core/ports.ts';
import { OCI_MANIFEST } from '../../support/oci.ts';
import { lambdaFixture, type LambdaFixture } from './fixture.ts';

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'r', attempts: 3, totalRetryDelay: 900 });

function sdkError(name: string, httpStatusCode: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: meta(httpStatusCode), ...extra });
}

const BUSY = [429, 'TOOMANYREQUESTS'] as const;
const UNAVAILABLE = [503, 'UNAVAILABLE'] as const;

const transient: [string, () => unknown, readonly [number, string]][] = [
  ['ThrottlingException (400, $retryable)', () => sdkError('ThrottlingException', 400, { $retryable: { throttling: true } }), BUSY],
  ['ThrottlingException (503)', () => sdkError('ThrottlingException', 503), BUSY],
  ['ProvisionedThroughputExceededException', () => new ProvisionedThroughputExceededException({ message: 'throughput exceeded', $metadata: meta(400) }), BUSY],
  ['RequestLimitExceeded', () => sdkError('RequestLimitExceeded', 400), BUSY],
  ['an unnamed throttling error ($retryable.throttling)', () => sdkError('SomethingThrottled', 400, { $retryable: { throttling: true } }), BUSY],
  ['an unnamed 429', () => sdkError('UnknownError', 429), BUSY],
  ['S3 SlowDown 503', () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: meta(503), message: 'Please reduce your request rate.' }), BUSY],
  ['the DynamoDB adapter out of retries on one key', () => Object.assign(new Error('blob record: too many concurrent changes'), { name: 'MetadataContentionError' }), BUSY],
  ['TransactionConflictException', () => sdkError('TransactionConflictException', 400), BUSY],
  [
    'TransactionCanceled by a conflict',
    () => new TransactionCanceledException({ message: 'cancelled', $metadata: meta(400), CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }] }),
    BUSY,
  ],
  ['S3 InternalError 500', () => new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: meta(500), message: 'We encountered an internal error.' }), UNAVAILABLE],
  ['an unnamed 502', () => sdkError('UnknownError', 502), UNAVAILABLE],
  ['TimeoutError', () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), UNAVAILABLE],
  ['a socket reset', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), UNAVAILABLE],
];

const notTransient: [string, () => unknown][] = [
  ['TransactionCanceled by a failed condition', () => new TransactionCanceledException({ message: 'cancelled', $metadata: meta(400), CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }] })],
  ['ValidationException', () => sdkError('ValidationException', 400)],
  ['a plain bug', () => new TypeError('x is undefined')],
  ['a string', () => 'boom'],
];

let f: LambdaFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** A metadata store whose tag lookup fails once with `error`, then works again. */
function failOnce(error: () => unknown): (m: MetadataStore) => MetadataStore {
  let failed = false;
  return (m) =>
    new Proxy(m, {
      get(t, p) {
        if ((p === 'getTaggedManifest' || p === 'headManifest') && !failed) {
          return async () => {
            failed = true;
            throw error();
          };
        }
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
}

describe('fault mapping', () => {
  it.each(transient)('%s -> %j with Retry-After, then the retry succeeds', async (_label, error, [status, code]) => {
    f = await lambdaFixture({ wrapMetadata: failOnce(error), retryAfterSeconds: 3 });
    const r = await f.invoke('GET', '/v2/r/x/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(r.statusCode).toBe(status);
    expect(r.headers['retry-after']).toBe('3');
    expect(r.json().errors?.[0]?.code).toBe(code);
    expect(r.headers['content-type']).toBe('application/json');
    const again = await f.invoke('GET', '/v2/r/x/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(again.statusCode).toBe(404);
    expect(again.json().errors?.[0]?.code).toBe('MANIFEST_UNKNOWN');
    const warn = f.lines().find((l) => l.message === 'backend busy');
    expect(warn?.level).toBe('WARN');
    // The error's own message is kept (a field named `message` would be dropped by Powertools).
    expect(typeof warn?.errorMessage).toBe('string');
    expect(f.lines().some((l) => String(l.message).includes('reserved key'))).toBe(false);
  });

  it.each(notTransient)('%s stays a 500 UNKNOWN', async (_label, error) => {
    f = await lambdaFixture({ wrapMetadata: failOnce(error) });
    const r = await f.invoke('GET', '/v2/r/x/manifests/v1');
    expect(r.statusCode).toBe(500);
    expect(r.json().errors?.[0]?.code).toBe('UNKNOWN');
    expect(r.headers['retry-after']).toBeUndefined();
    expect(f.lines().some((l) => l.message === 'unexpected error' && l.level === 'ERROR')).toBe(true);
  });

  it('HEAD gets the 429 without a body', async () => {
    f = await lambdaFixture({ wrapMetadata: failOnce(() => sdkError('ThrottlingException', 400)) });
    const r = await f.invoke('HEAD', '/v2/r/x/manifests/v1');
    expect(r.statusCode).toBe(429);
    expect(r.body).toBeUndefined();
    expect(r.headers['retry-after']).toBe('1');
  });

  it('a registry that cannot be built (e.g. a throttled secret fetch) is a 429 too, and the next invocation retries it', async () => {
    let attempts = 0;
    f = await lambdaFixture({
      getRegistry: (real) => async () => {
        if (attempts++ === 0) throw sdkError('ThrottlingException', 400, { $retryable: { throttling: true } });
        return real;
      },
    });
    const r = await f.invoke('GET', '/v2/');
    expect(r.statusCode).toBe(429);
    expect(r.json().errors?.[0]?.code).toBe('TOOMANYREQUESTS');
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect((await f.invoke('GET', '/v2/')).statusCode).toBe(200);
  });

  it('classifies nothing that is not an AWS-shaped transient failure', () => {
    for (const v of [undefined, null, 42, {}, { name: 'ConditionalCheckFailedException', $metadata: meta(400) }, { $retryable: false }]) {
      expect(classifyAwsError(v)).toBeUndefined();
    }
  });
});
