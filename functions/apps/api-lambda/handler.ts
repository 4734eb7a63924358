// The API Lambda: one middy handler for API Gateway HTTP API (payload 2.0) events into the core
// registry, with one JSON log line and a set of EMF metrics per request.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { RegistryError } from '../../core/errors.ts';
import { API_VERSION_HEADERS, jsonResponse, type RegistryRequest, type RegistryResponse } from '../../core/http.ts';
import type { Registry } from '../../core/registry.ts';
import { eventToRequest, responseToResult } from './apigw-event.ts';
import { classifyAwsError } from '../../aws/errors.ts';
import { awsRegistryHooks } from '../../aws/registry-hooks.ts';
import { countRequestBodies, type ComputeBytes } from '../../aws/compute-bytes.ts';
import { operationOf } from './operation.ts';
import { holdOutput } from './held-output.ts';

export interface ApiHandlerOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Seconds in Retry-After when the backend is throttled. Default 1. */
  retryAfterSeconds?: number;
  /** Largest serialized result (Lambda's response limit by default). */
  maxPayloadBytes?: number;
  /** Counts the request body bytes the registry reads into this (start:aws, for the tests and bench). */
  computeBytes?: ComputeBytes;
  /**
   * One invocation at a time (Lambda): hold stdout for each invocation so its lines leave in one
   * write (held-output.ts). Not where requests overlap (start:aws): the lines would wait for a lull.
   */
  holdOutput?: boolean;
}

/** A slow invocation's held lines leave after this long (Lambda timeouts are longer). */
const HOLD_OUTPUT_MS = 1000;

export type ApiHandler = middy.MiddyfiedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>;

export const defaultLogger = (): Logger => new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });
export const defaultMetrics = (): Metrics =>
  new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });

export function createApiHandler(getRegistry: () => Promise<Registry> | Registry, opts: ApiHandlerOptions = {}): ApiHandler {
  const logger = opts.logger ?? defaultLogger();
  const metrics = opts.metrics ?? defaultMetrics();
  const hooks = awsRegistryHooks(logger, opts);

  /** Failures outside the registry (its construction, e.g. a throttled secret fetch). */
  function failure(e: unknown, req: RegistryRequest): RegistryResponse {
    hooks.onError?.(e, req);
    const error = classifyAwsError(e, opts) ?? new RegistryError('UNKNOWN', {});
    const res = jsonResponse(error.status, error.toJSON(), { ...error.headers, ...API_VERSION_HEADERS });
    if (req.method === 'HEAD') delete res.body;
    res.errorCode = error.code;
    return res;
  }

  async function handle(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const held = opts.holdOutput ? holdOutput(process.stdout, HOLD_OUTPUT_MS) : undefined;
    try {
      return await answer(event, context);
    } finally {
      held?.release();
    }
  }

  async function answer(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    const started = performance.now();
    metrics.captureColdStartMetric(context.functionName);
    const { request, bodyBytes: bytesIn } = eventToRequest(event);
    const operation = operationOf(request.method, request.path);
    logger.appendKeys({ apiRequestId: event.requestContext.requestId });
    let res: RegistryResponse;
    try {
      const registry = await getRegistry();
      res = await (opts.computeBytes ? countRequestBodies(registry, opts.computeBytes) : registry)(request);
    } catch (e) {
      res = failure(e, request);
    }
    let out;
    try {
      out = await responseToResult(res, request.method, opts.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: opts.maxPayloadBytes });
    } catch (e) {
      // A streamed body that failed while being collected.
      out = await responseToResult(failure(e, request), request.method);
    }
    const status = out.result.statusCode ?? 200;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    // One write for the request's log line and its metric documents, published here rather than by
    // a middleware so the whole block is synchronous: each line was a write (a syscall) of its own.
    process.stdout.cork();
    try {
      // The one line per request: no query string (it carries `_state` tokens), no headers, no body.
      logger.info('request', { method: request.method, path: request.path, operation, status, ms, bytesIn, bytesOut: out.bodyBytes, error: out.errorCode });
      // One metric document per request. Pushes and pulls are its Requests of manifest.put and
      // manifest.get with statusClass 2xx (infra/constructs/dashboard.ts): a document of their own
      // cost a second serialization per pull.
      metrics.addDimensions({ operation, statusClass: `${Math.floor(status / 100)}xx` });
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      metrics.addMetric('Latency', MetricUnit.Milliseconds, ms);
      metrics.addMetric('BytesIn', MetricUnit.Bytes, bytesIn);
      metrics.addMetric('BytesOut', MetricUnit.Bytes, out.bodyBytes);
      metrics.publishStoredMetrics();
    } finally {
      process.stdout.uncork();
    }
    return out.result;
  }

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>(handle)
    // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds tokens and Authorization.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
}
