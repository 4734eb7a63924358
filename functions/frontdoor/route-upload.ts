// Where an upload request goes: the streaming ingest service or the API Lambda. Written once and
// free of Node APIs and of syntax the CloudFront Functions runtime (cloudfront-js-2.0) lacks, so the
// edge's viewer-request function can use the same source (DESIGN.md §4).

/**
 * Largest raw body the API Lambda takes: Lambda accepts 6 MiB of event JSON, and API Gateway sends
 * binary bodies base64-encoded (4/3 larger), which leaves 4.5 MiB; 64 KiB of it are kept for the
 * rest of the event (headers, request context). Larger bodies, and bodies of unknown length, go to
 * the ingest service.
 */
export const MAX_API_BODY_BYTES = 4.5 * 1024 * 1024 - 64 * 1024;

const UPLOAD_SESSION = /^\/v2\/.+\/blobs\/uploads\/[^/]+$/;
const UPLOAD_START = /^\/v2\/.+\/blobs\/uploads\/?$/;
const DIGITS = /^[0-9]+$/;

export type Destination = 'ingest' | 'api';

/**
 * `headers`: lower-cased names. Upload PATCH/PUT on a session whose body is streamed (chunked, or no
 * Content-Length: over HTTP/2 a body's length may be unknown) or larger than MAX_API_BODY_BYTES go
 * to ingest, and so does a monolithic POST whose body is chunked or too large; everything else
 * (including a malformed Content-Length, for the API to refuse) goes to the API.
 */
export function routeUpload(method: string, path: string, headers: Record<string, string | undefined>): Destination {
  const m = method.toUpperCase();
  const session = (m === 'PATCH' || m === 'PUT') && UPLOAD_SESSION.test(path);
  const start = m === 'POST' && UPLOAD_START.test(path);
  if (!session && !start) return 'api';
  const transferEncoding = headers['transfer-encoding'];
  if (transferEncoding !== undefined && transferEncoding !== '') return 'ingest';
  const length = headers['content-length'];
  // A POST without Content-Length has no body (HTTP/1.1); a session PATCH/PUT may be streaming one.
  if (length === undefined || length === '') return session ? 'ingest' : 'api';
  if (!DIGITS.test(length)) return 'api';
  return Number(length) > MAX_API_BODY_BYTES ? 'ingest' : 'api';
}
