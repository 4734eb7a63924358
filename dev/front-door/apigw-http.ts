// What API Gateway HTTP API does between a client and a Lambda (payload format 2.0), faithfully
// enough to run the API Lambda on one machine:
// - request: header names lower-cased, duplicates joined with ',', cookies moved to `cookies`,
//   X-Forwarded-* added; the body buffered and sent as text only for text/*, application/json,
//   application/xml and application/javascript (everything else, or no Content-Type, base64);
// - limits: a body over 10 MB is refused by API Gateway (413); an event over Lambda's 6 MiB request
//   limit makes the invocation fail with RequestEntityTooLargeException, which we also answer with
//   413 (the client sent too much; API Gateway's own answer there is no OCI error, ours is);
// - response: status, headers, cookies as Set-Cookie, base64 bodies decoded, Content-Length from
//   the body; a failing handler or a result over the 6 MB response limit is API Gateway's
//   500 {"message":"Internal Server Error"}; an invocation past 30 s its 503.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LAMBDA_REQUEST_LIMIT, LAMBDA_RESPONSE_LIMIT } from '../../functions/apps/api-lambda/apigw-event.ts';
import { ociErrorBody } from '../../functions/core/errors.ts';
import { API_VERSION_HEADERS } from '../../functions/core/http.ts';

/** API Gateway's request payload quota: 10 MB. */
export const API_GATEWAY_BODY_LIMIT = 10 * 1024 * 1024;
/** HTTP API's integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 30_000;

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

const TEXT_TYPES = /^(text\/[^;]*|application\/(json|xml|javascript))\s*(;.*)?$/i;

export function isTextBody(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

export function requestToEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQueryString = q < 0 ? '' : raw.slice(q + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') cookies = values.flatMap((v) => v.split(/;\s*/)).filter((c) => c !== '');
    // API Gateway buffers the body: the Lambda sees its length, never a transfer coding.
    else if (name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') headers[name] = values.join(',');
  }
  if (body.byteLength > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) headers['content-length'] = String(body.byteLength);
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  const now = new Date();
  const requestId = randomUUID();
  const text = isTextBody(headers['content-type']) && isUtf8(body);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    queryStringParameters: queryParameters(rawQueryString),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: { method: (req.method ?? 'GET').toUpperCase(), path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: body.byteLength > 0 && !text,
  };
  if (cookies && cookies.length > 0) event.cookies = cookies;
  if (body.byteLength > 0) event.body = text ? body.toString('utf8') : body.toString('base64');
  return event;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Payload 2.0's `queryStringParameters`: duplicates joined with commas (the handler uses rawQueryString). */
function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

export function lambdaContext(requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'registry-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:registry-api',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/registry-api',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const gatewayError = (status: number, message: string): Answer => {
  const body = Buffer.from(JSON.stringify({ message }));
  return { status, headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength), 'apigw-requestid': randomUUID() }, body };
};

/** An OCI error answered by the front door itself (the API never saw the request). */
export function ociError(status: number, code: string, message: string, detail: unknown): Answer {
  const body = Buffer.from(JSON.stringify(ociErrorBody(code, message, detail)));
  return {
    status,
    headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength), ...API_VERSION_HEADERS },
    body,
  };
}

export const requestTooLarge = (limit: number, what: string): Answer =>
  ociError(413, 'SIZE_INVALID', 'request entity too large', { reason: `${what} exceeds ${limit} bytes`, limit });

/** Invokes the handler with the event, as API Gateway would, and turns its result into an answer. */
export async function invoke(handler: LambdaHandler, event: APIGatewayProxyEventV2, timeoutMs = INTEGRATION_TIMEOUT_MS): Promise<Answer> {
  const payload = Buffer.byteLength(JSON.stringify(event));
  if (payload > LAMBDA_REQUEST_LIMIT) return requestTooLarge(LAMBDA_REQUEST_LIMIT, `the Lambda event (${payload} bytes)`);
  // The handler gets its own copy, as over the wire.
  const copy = JSON.parse(JSON.stringify(event)) as APIGatewayProxyEventV2;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  let result: unknown;
  try {
    result = await Promise.race([handler(copy, lambdaContext(event.requestContext.requestId, timeoutMs)), timedOut]);
  } catch {
    return gatewayError(500, 'Internal Server Error');
  } finally {
    clearTimeout(timer);
  }
  if (result === 'timeout') return gatewayError(503, 'Service Unavailable');
  const serialized = JSON.stringify(result ?? null);
  if (Buffer.byteLength(serialized) > LAMBDA_RESPONSE_LIMIT) return gatewayError(500, 'Internal Server Error');
  return resultToAnswer(JSON.parse(serialized) as unknown, event.requestContext.http.method);
}

/** Payload 2.0 result -> HTTP answer (a result without statusCode is a 200 JSON body, as API Gateway does). */
export function resultToAnswer(result: unknown, method: string): Answer {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const body = Buffer.from(JSON.stringify(result));
    return { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength) }, body };
  }
  const r = result as APIGatewayProxyStructuredResultV2;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (r.cookies && r.cookies.length > 0) headers['set-cookie'] = r.cookies;
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  // API Gateway sends the length of the body it has; HEAD keeps the handler's Content-Length.
  if (method !== 'HEAD' && (r.statusCode !== 204 || body.byteLength > 0)) headers['content-length'] = String(body.byteLength);
  return { status: r.statusCode ?? 200, headers, body: method === 'HEAD' ? Buffer.alloc(0) : body };
}

export function writeAnswer(res: ServerResponse, answer: Answer, extra: Record<string, string> = {}): void {
  res.writeHead(answer.status, { ...answer.headers, ...extra });
  res.end(answer.body);
}
