// The distribution's API origins in start:aws: one API Lambda handler per region, the real
// read-routing CloudFront Function choosing among them (writes to the primary; reads to the nearest
// region, in an origin group that fails over on the function's status codes), and CloudFront's
// custom error response (an unreachable origin's 502, a silent one's 504, answered 503 with the
// API's OCI error page). An API can be taken down and brought back, to show what a region outage
// does to pushes and pulls (test/dev/start-aws/regions.test.ts).
import { ORIGIN_SECRET_HEADER } from '../../functions/aws/origin-guard.ts';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { requestEvent, type EdgeFunction } from '../cloudfront/harness.ts';
import { UNAVAILABLE_PAGE_PATH } from '../../functions/edge/source.ts';
import { invoke, type Answer, type LambdaHandler } from './apigw-http.ts';
import { CdnCache } from './cdn-cache.ts';
import type { UiOrigin } from './ui-origin.ts';

export interface RegionalApis {
  /** The read-routing function, loaded with this distribution's settings. */
  routing: EdgeFunction;
  /** The API handler behind each origin id. */
  handlers: Readonly<Record<string, LambdaHandler>>;
  /** The origin id of the primary API (the default behaviour's origin). */
  primary: string;
  /** Origin ids whose API does not answer (CloudFront cannot connect). */
  down: Set<string>;
  /** The unavailable page's behaviour: its origins in failover order (no function runs there). */
  pageOrigins: string[];
  /** The API behaviour's cache (what the origin marks public); none: nothing is kept. */
  cache?: CdnCache;
  /** The web interface's bucket, where the read-routing function sends reads of `/`. */
  ui?: UiOrigin;
}

/** Which API origin served a request, for the front door's counters and the tests. */
export interface RegionalAnswer {
  answer: Answer;
  /** Origin ids tried, in order. */
  tried: string[];
}

/** CloudFront's own answer when it cannot reach an origin (its HTML error page, abridged). */
function cloudFrontError(status: 502 | 504): Answer {
  const body = Buffer.from(`<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>${status === 502 ? 'Bad Gateway' : 'Gateway Timeout'}</BODY></HTML>\n`);
  return { status, headers: { 'content-type': 'text/html', 'content-length': String(body.byteLength), 'x-cache': 'Error from cloudfront' }, body };
}

interface Choice {
  ids: string[];
  failover: number[];
  /** The path as the function left it. */
  uri?: string;
}

/** Read-routing's choice for `req`; a header the function dropped (an anonymous token) leaves `event` too. */
async function choose(apis: RegionalApis, req: { method: string; url: string; headers: IncomingMessage['headers'] }, event: APIGatewayProxyEventV2): Promise<Choice> {
  const result = await apis.routing.run(requestEvent(req));
  if (result.kind !== 'request') throw new Error('read-routing answered a request itself');
  for (const name of Object.keys(event.headers)) if (name in req.headers && !(name in result.request.headers)) delete event.headers[name];
  const origin = result.origin;
  if (origin.kind === 'id') return { ids: [origin.id], failover: [], uri: result.request.uri };
  if (origin.kind === 'group') {
    const p = origin.params as { originIds: { originId: string }[]; failoverCriteria: { statusCodes: number[] } };
    return { ids: p.originIds.map((o) => o.originId), failover: p.failoverCriteria.statusCodes };
  }
  return { ids: [apis.primary], failover: [] };
}

async function tryOrigins(apis: RegionalApis, choice: Choice, event: APIGatewayProxyEventV2, timeoutMs: number): Promise<RegionalAnswer> {
  const tried: string[] = [];
  let answer: Answer = cloudFrontError(502);
  for (const id of choice.ids) {
    tried.push(id);
    const handler = apis.handlers[id];
    if (!handler) throw new Error(`read-routing chose origin ${id}, which the distribution does not have`);
    answer = apis.down.has(id) ? cloudFrontError(502) : await invoke(handler, event, timeoutMs);
    // CloudFront fails over on the group's codes, and when it cannot reach the origin at all.
    if (!choice.failover.includes(answer.status) && !apis.down.has(id)) break;
  }
  return { answer, tried };
}

/**
 * The answer of the API origin(s) to `event`, as CloudFront gives it: `originId` when a function on
 * another behaviour chose one (the upload behaviour's), else read-routing's choice.
 */
export async function regionalInvoke(apis: RegionalApis, req: IncomingMessage, event: APIGatewayProxyEventV2, timeoutMs: number, originId?: string): Promise<RegionalAnswer> {
  const choice: Choice = originId ? { ids: [originId], failover: [] } : await choose(apis, { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, event);
  // The page: the interface's bucket, as the function rewrote the path (nothing the API cache keeps).
  if (apis.ui && choice.ids[0] === apis.ui.id) return { answer: await apis.ui.get(choice.uri ?? '/index.html', req.method ?? 'GET'), tried: [apis.ui.id] };
  // The API behaviour's cache (the upload behaviour, which chose `originId`, keeps nothing).
  const key = apis.cache && !originId ? CdnCache.keyOf(event) : undefined;
  const hit = key === undefined ? undefined : apis.cache!.get(key);
  if (hit) return { answer: hit, tried: [] };
  const result = await tryOrigins(apis, choice, event, timeoutMs);
  if (key !== undefined) apis.cache!.put(key, result.answer);
  if (result.answer.status !== 502 && result.answer.status !== 504) return result;
  // The distribution's custom error response: the page, fetched as a GET from its own behaviour (a
  // static group starting with the replica, no function), sent with 503.
  const page = await tryOrigins(apis, { ids: apis.pageOrigins, failover: [500, 502, 503, 504] }, pageEvent(event), timeoutMs);
  if (page.answer.status !== 200) return result;
  return { answer: { ...page.answer, status: 503 }, tried: result.tried };
}

function pageEvent(event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 {
  const { body: _body, queryStringParameters: _query, cookies: _cookies, ...rest } = event;
  return {
    ...rest,
    rawPath: UNAVAILABLE_PAGE_PATH,
    rawQueryString: '',
    // CloudFront's origin custom headers go with the error page's fetch too (an origin request).
    headers: { host: event.headers.host ?? 'localhost', ...(event.headers[ORIGIN_SECRET_HEADER] ? { [ORIGIN_SECRET_HEADER]: event.headers[ORIGIN_SECRET_HEADER] } : {}) },
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method: 'GET', path: UNAVAILABLE_PAGE_PATH } },
    isBase64Encoded: false,
  };
}
