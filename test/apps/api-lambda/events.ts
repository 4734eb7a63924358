// Hand-made API Gateway HTTP API (payload 2.0) events, shaped like the ones API Gateway sends:
// lower-cased header names, raw path and query string, binary bodies base64-encoded.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface EventOptions {
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Send a byte body as text instead of base64 (API Gateway does this for text/* and application/json). */
  asText?: boolean;
  cookies?: string[];
}

let counter = 0;

export function apiEvent(method: string, url: string, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? '' : url.slice(q + 1);
  const headers: Record<string, string> = { host: 'registry.example', 'user-agent': 'test' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'registry.example',
      domainPrefix: 'registry',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `req-${++counter}`,
      routeKey: '$default',
      stage: '$default',
      time: '30/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  };
  if (opts.cookies) event.cookies = opts.cookies;
  if (opts.body !== undefined) {
    const bytes = typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
    headers['content-length'] ??= String(bytes.byteLength);
    if (opts.asText || typeof opts.body === 'string') event.body = bytes.toString('utf8');
    else {
      event.body = bytes.toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'registry-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:registry-api',
    memoryLimitInMB: '1024',
    awsRequestId: `aws-${++counter}`,
    logGroupName: '/aws/lambda/registry-api',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
