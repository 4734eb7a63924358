// Reading S3 errors by name, and the few that mean something to the upload port.
import { UploadGoneError } from '../../core/ports.ts';

export function s3ErrorName(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const o = e as { name?: unknown; Code?: unknown };
  if (typeof o.Code === 'string') return o.Code;
  return typeof o.name === 'string' ? o.name : undefined;
}

function httpStatus(e: unknown): number | undefined {
  const meta = (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

/** The object or multipart upload does not exist (any more). */
export function isMissing(e: unknown): boolean {
  const name = s3ErrorName(e);
  return name === 'NoSuchKey' || name === 'NoSuchUpload' || name === 'NotFound' || (name === undefined && httpStatus(e) === 404);
}

/** An operation the endpoint does not implement (s3rver answers AbortMultipartUpload with 405). */
export function isUnsupported(e: unknown): boolean {
  const name = s3ErrorName(e);
  return name === 'NotImplemented' || name === 'MethodNotAllowed';
}

/** Rethrows `e`, as UploadGoneError when it says the upload's objects are gone. */
export function goneIfMissing(e: unknown): never {
  if (isMissing(e)) throw new UploadGoneError(`upload bytes are gone (${s3ErrorName(e) ?? 'not found'})`);
  throw e;
}
