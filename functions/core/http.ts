// Framework-free request/response shapes shared by every entry point (local server, Lambda).

/** The header every registry answer carries (distribution's API version), error answers included. */
export const API_VERSION_HEADERS: Readonly<Record<string, string>> = { 'docker-distribution-api-version': 'registry/2.0' };

export type Body = Uint8Array | string | AsyncIterable<Uint8Array>;

export interface RegistryRequest {
  method: string;
  /** Raw path, without query string, e.g. `/v2/library/alpine/manifests/latest`. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string | undefined>>;
  /** Request body as a byte stream; absent when the request has none. */
  body?: AsyncIterable<Uint8Array>;
  /** The client's address as the entry point knows it (the socket's; the viewer's behind CloudFront). */
  clientAddress?: string;
}

/** The entry point wraps failures reading the request body (client went away, short body) in this. */
export class BodyReadError extends Error {
  constructor(cause: unknown) {
    super('request body could not be read', { cause });
    this.name = 'BodyReadError';
  }
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string>;
  /** For HEAD the handler sets Content-Length and leaves body undefined. */
  body?: Body;
  /** OCI error code when the response is an error (for logs and metrics; not sent). */
  errorCode?: string;
}

export function header(req: RegistryRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return v === undefined || v === '' ? undefined : v;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): RegistryResponse {
  const body = JSON.stringify(value);
  return {
    status,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
  };
}

/** A response without a body; a 204 carries no Content-Length at all (RFC 9110 §8.6). */
export function emptyResponse(status: number, headers: Record<string, string> = {}): RegistryResponse {
  return { status, headers: status === 204 ? { ...headers } : { 'content-length': '0', ...headers } };
}
