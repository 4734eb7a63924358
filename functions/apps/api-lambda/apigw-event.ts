// API Gateway HTTP API (payload format 2.0) <-> the core's RegistryRequest / RegistryResponse.
// Pure conversions; the Lambda handler and the local front door both use them.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { RegistryError } from '../../core/errors.ts';
import { API_VERSION_HEADERS, jsonResponse, type RegistryRequest, type RegistryResponse } from '../../core/http.ts';

/**
 * Largest response payload a synchronous Lambda invocation may return: "6 MB" is 6 MiB + 100 bytes
 * of serialized JSON (the result object, base64 body included).
 */
export const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024 + 100;

/** Largest synchronous invocation request (the event as JSON): 6 MiB. */
export const LAMBDA_REQUEST_LIMIT = 6 * 1024 * 1024;

export interface ConvertedRequest {
  request: RegistryRequest;
  /** Decoded body size in bytes (0 without a body). */
  bodyBytes: number;
}

/** The event as the core's request: raw path and query string, lower-cased headers, decoded body. */
export function eventToRequest(event: APIGatewayProxyEventV2): ConvertedRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    // API Gateway already joins duplicates and lower-cases names; a hand-made event may not have.
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  // Cookies arrive in event.cookies; the registry uses none, so they are dropped.
  const body = decodeBody(event);
  const request: RegistryRequest = {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath || '/',
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    // Behind CloudFront, API Gateway's source is the edge; CloudFront sets the viewer's (ip:port).
    clientAddress: viewerAddress(headers['cloudfront-viewer-address']) ?? event.requestContext.http.sourceIp,
  };
  if (body.byteLength > 0) request.body = once(body);
  return { request, bodyBytes: body.byteLength };
}

/** `CloudFront-Viewer-Address` is `ip:port` (IPv6 unbracketed): the address without the port. */
function viewerAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const i = value.lastIndexOf(':');
  return i > 0 ? value.slice(0, i) : value;
}

function decodeBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null || event.body === '') return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export interface ConvertedResponse {
  result: APIGatewayProxyStructuredResultV2;
  /** Body bytes sent (decoded; 0 for HEAD). */
  bodyBytes: number;
  /** The OCI error code of the response actually returned. */
  errorCode?: string;
}

export interface ResponseOptions {
  /** Largest serialized result; default LAMBDA_RESPONSE_LIMIT. */
  maxPayloadBytes?: number;
}

/**
 * The core's response as an API Gateway v2 result. Byte bodies go base64, string bodies as text;
 * a streamed body is collected, never past the payload limit. A response that would not fit in
 * Lambda's response payload becomes an OCI error (500 UNKNOWN), not an invocation failure.
 */
export async function responseToResult(res: RegistryResponse, method: string, opts: ResponseOptions = {}): Promise<ConvertedResponse> {
  const limit = opts.maxPayloadBytes ?? LAMBDA_RESPONSE_LIMIT;
  const head = method.toUpperCase() === 'HEAD';
  const { headers, cookies } = splitHeaders(res.headers);
  const result: APIGatewayProxyStructuredResultV2 = { statusCode: res.status, headers };
  if (cookies.length > 0) result.cookies = cookies;
  let bodyBytes = 0;
  if (!head && res.body !== undefined) {
    if (typeof res.body === 'string') {
      result.body = res.body;
      result.isBase64Encoded = false;
      bodyBytes = Buffer.byteLength(res.body);
    } else {
      // Base64 inflates by 4/3: bytes beyond 3/4 of the limit can never fit.
      const bytes = res.body instanceof Uint8Array ? res.body : await collect(res.body, Math.floor((limit * 3) / 4));
      if (bytes === undefined) return tooLarge(method, limit);
      result.body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
      result.isBase64Encoded = true;
      bodyBytes = bytes.byteLength;
    }
  } else if (head && res.body !== undefined && typeof res.body !== 'string' && !(res.body instanceof Uint8Array)) {
    // A HEAD answered with a stream: release it unread.
    await res.body[Symbol.asyncIterator]().return?.();
  }
  if (Buffer.byteLength(JSON.stringify(result)) > limit) return tooLarge(method, limit);
  return { result, bodyBytes, ...(res.errorCode ? { errorCode: res.errorCode } : {}) };
}

/** Reads at most `cap` bytes; undefined (and the stream released) when there are more. */
async function collect(body: AsyncIterable<Uint8Array>, cap: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > cap) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function splitHeaders(input: Record<string, string>): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    // Payload 2.0 has no multiValueHeaders: Set-Cookie values go in `cookies`, others comma-joined.
    if (name.toLowerCase() === 'set-cookie') cookies.push(value);
    else headers[name] = value;
  }
  return { headers, cookies };
}

function tooLarge(method: string, limit: number): ConvertedResponse {
  const error = new RegistryError('UNKNOWN', { reason: `response exceeds the ${limit}-byte Lambda response payload limit` });
  const res = jsonResponse(error.status, error.toJSON(), API_VERSION_HEADERS);
  const result: APIGatewayProxyStructuredResultV2 = { statusCode: res.status, headers: res.headers };
  if (method.toUpperCase() !== 'HEAD') {
    result.body = res.body as string;
    result.isBase64Encoded = false;
  }
  return { result, bodyBytes: method.toUpperCase() === 'HEAD' ? 0 : Buffer.byteLength(res.body as string), errorCode: error.code };
}
