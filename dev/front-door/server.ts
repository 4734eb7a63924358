// The local front door of `npm run start:aws`: routes each request the way the CloudFront
// distribution will. Upload bodies that are streamed or too big for a Lambda are proxied, as they
// arrive, to the ingest service; every other request becomes an API Gateway v2 event for the API
// Lambda handler (see apigw-http.ts for what is reproduced of API Gateway).
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { API_GATEWAY_BODY_LIMIT, INTEGRATION_TIMEOUT_MS, invoke, ociError, requestTooLarge, requestToEvent, writeAnswer, type Answer, type LambdaHandler } from './apigw-http.ts';
import { routeUpload, type Destination } from './route-upload.ts';
import { drainUnread } from '../../functions/http/server.ts';
import { isUploadPath, toS3, viewerRequest, type EdgeDestination, type EdgeRouting } from './edge-origin.ts';
import { regionalInvoke, type RegionalApis } from './regions.ts';
import { isUiPath, methodNotAllowed, withUiHeaders, type UiOrigin } from './ui-origin.ts';

export interface FrontDoorOptions {
  host: string;
  port: number;
  /** The API Lambda's handler (e.g. createApiHandler's result). */
  handler: LambdaHandler;
  /** CloudFront's custom origin headers on the API origins: set on every API request, over any a viewer sent. */
  originHeaders?: Record<string, string>;
  /** Origin of the ingest service, e.g. `http://127.0.0.1:5001`; without it everything goes to the API. */
  ingestUrl?: string;
  /** API Gateway's integration timeout (30 s). */
  timeoutMs?: number;
  /** Called once per request with where it went (for logs and tests). */
  onRoute?: (destination: Destination | EdgeDestination, req: IncomingMessage) => void;
  /**
   * The CloudFront upload behaviour: upload paths go through the real viewer-request function, which
   * picks S3, ingest or the API (or answers itself); without it, routeUpload decides.
   */
  edge?: EdgeRouting;
  /**
   * Answer `GET /_local/stats` with the counters below (JSON). start:aws only, for tests and the
   * bench: the deployed CloudFront distribution has no such path (it would reach the API, which
   * answers 404).
   */
  localStats?: boolean;
  /**
   * The API origins of every region and the read-routing function that picks among them (without
   * it, `handler` answers every API request).
   */
  regions?: RegionalApis;
  /**
   * The web interface's bucket: the behaviours /ui/* and /index.html read it, the read-routing
   * function sends reads of `/` to it (`regions.ui`), and the headers policy goes on those answers
   * and the API behaviour's (infra/stacks/edge-stack.ts). Without it, `/` is the API's.
   */
  ui?: UiOrigin;
}

/** The start:aws-only path that reports FrontDoorStats. */
export const LOCAL_STATS_PATH = '/_local/stats';

/** Request body bytes each origin received (0 for the API and ingest is the point of the edge path). */
export interface FrontDoorStats {
  bytes: Record<'api' | 'ingest' | 's3', number>;
  requests: Record<Destination | EdgeDestination | 'ui', number>;
  /** With regions: requests each API origin was sent (a failover counts on both). */
  apiOrigins: Record<string, number>;
}

export interface FrontDoor {
  url: string;
  server: Server;
  stats: FrontDoorStats;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}


/** The whole body, or undefined as soon as it passes `limit`. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

interface ApiTarget {
  handler: LambdaHandler;
  /** The behaviour's response headers policy, when it has one (the API behaviour's, with an interface). */
  headers?: (answer: Answer) => Answer;
  regions?: RegionalApis;
  /** The origin a function already chose (the upload behaviour's). */
  originId?: string;
}

async function toApi(target: ApiTarget, req: IncomingMessage, res: ServerResponse, timeoutMs: number, stats?: FrontDoorStats, originHeaders: Record<string, string> = {}): Promise<void> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > API_GATEWAY_BODY_LIMIT) {
    writeAnswer(res, requestTooLarge(API_GATEWAY_BODY_LIMIT, 'the request body'), { connection: 'close' });
    drainUnread(req);
    return;
  }
  const body = await readBody(req, API_GATEWAY_BODY_LIMIT);
  if (body === undefined) {
    writeAnswer(res, requestTooLarge(API_GATEWAY_BODY_LIMIT, 'the request body'), { connection: 'close' });
    drainUnread(req);
    return;
  }
  if (stats) stats.bytes.api += body.byteLength;
  const event = requestToEvent(req, body);
  for (const [name, value] of Object.entries(originHeaders)) event.headers[name.toLowerCase()] = value;
  // CloudFront's own viewer address (ip:port of the connection), whatever the viewer sent in its name.
  event.headers['cloudfront-viewer-address'] = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`;
  const policy = target.headers ?? ((a: Answer) => a);
  if (!target.regions) return writeAnswer(res, policy(await invoke(target.handler, event, timeoutMs)));
  const { answer, tried } = await regionalInvoke(target.regions, req, event, timeoutMs, target.originId);
  if (stats) for (const id of tried) stats.apiOrigins[id] = (stats.apiOrigins[id] ?? 0) + 1;
  writeAnswer(res, policy(answer));
}

async function toIngest(origin: URL, req: IncomingMessage, res: ServerResponse, stats?: FrontDoorStats): Promise<void> {
  if (stats) req.on('data', (chunk: Buffer) => (stats.bytes.ingest += chunk.byteLength));
  const headers = endToEnd(req.headers);
  // HTTP/1.1 without Content-Length or Transfer-Encoding: no body. Say so, rather than let the
  // proxied request go out chunked.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) headers['content-length'] = '0';
  const sourceIp = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = typeof headers['x-forwarded-for'] === 'string' ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  const upstream = httpRequest(new URL(req.url ?? '/', origin), { method: req.method, headers });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
  // The body streams through as it arrives: nothing is buffered here. Not a pipeline(): when ingest
  // answers before the body is in (a 416, a 413), the client's connection must survive the upstream
  // request being dropped, its rest read and discarded here, so the next request on it is answered.
  const sent = new Promise<unknown>((resolve) => {
    upstream.once('finish', () => resolve(undefined));
    upstream.once('close', () => resolve(undefined));
    upstream.once('error', resolve);
    req.once('error', (e) => {
      upstream.destroy();
      resolve(e);
    });
  });
  req.pipe(upstream);
  let reply: IncomingMessage;
  try {
    reply = await answered;
  } catch (e) {
    await sent;
    if (!res.headersSent) {
      writeAnswer(res, ociError(502, 'UNAVAILABLE', 'ingest service unavailable', { reason: e instanceof Error ? e.message : String(e) }), { connection: 'close' });
    }
    if (!req.complete) drainUnread(req);
    return;
  }
  res.writeHead(reply.statusCode ?? 502, endToEnd(reply.headers));
  await pipeline(reply, res);
  if (!req.complete) {
    // Answered early: ingest needs no more of the body. Stop sending it there and drain it here.
    req.unpipe(upstream);
    upstream.destroy();
    drainUnread(req);
  }
}

export async function startFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const ingest = opts.ingestUrl ? new URL(opts.ingestUrl) : undefined;
  const timeoutMs = opts.timeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const stats: FrontDoorStats = {
    bytes: { api: 0, ingest: 0, s3: 0 },
    requests: { api: 0, ingest: 0, s3: 0, 'edge-refused': 0, ui: 0 },
    apiOrigins: {},
  };
  const api: ApiTarget = { handler: opts.handler, ...(opts.regions ? { regions: { ...opts.regions, ...(opts.ui ? { ui: opts.ui } : {}) } } : {}), ...(opts.ui ? { headers: withUiHeaders } : {}) };
  // The upload behaviour's function picks the primary API by id: no read routing there, and no headers policy.
  const uploadApi: ApiTarget = { handler: opts.handler, ...(opts.regions ? { regions: opts.regions, originId: opts.regions.primary } : {}) };
  const route = (destination: Destination | EdgeDestination | 'ui', req: IncomingMessage): void => {
    stats.requests[destination] += 1;
    if (destination !== 'ui') opts.onRoute?.(destination, req);
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (opts.localStats && path === LOCAL_STATS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify(stats);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (!req.complete) drainUnread(req);
      return;
    }
    if (opts.ui && isUiPath(path)) {
      route('ui', req);
      const allowed = req.method === 'GET' || req.method === 'HEAD';
      writeAnswer(res, allowed ? withUiHeaders(await opts.ui.get(path, req.method!)) : methodNotAllowed());
      if (!req.complete) drainUnread(req);
      return;
    }
    if (opts.edge && isUploadPath(path)) {
      const decision = await viewerRequest(opts.edge, req, res);
      route(decision.destination, req);
      if (decision.destination === 'edge-refused') return drainUnread(req);
      if (decision.destination === 's3' && decision.request) {
        // Not `stats.bytes.s3 += await ...`: that reads the counter before the await, and uploads
        // running in parallel would overwrite each other's counts.
        const sent = await toS3(opts.edge, decision.request, req, res);
        stats.bytes.s3 += sent;
        if (!req.complete) drainUnread(req);
        return;
      }
      if (decision.destination === 'ingest' && ingest) return toIngest(ingest, req, res, stats);
      return toApi(uploadApi, req, res, timeoutMs, stats, opts.originHeaders);
    }
    const destination: Destination = ingest ? routeUpload(req.method ?? 'GET', path, req.headers as Record<string, string | undefined>) : 'api';
    route(destination, req);
    return destination === 'ingest' && ingest ? toIngest(ingest, req, res, stats) : toApi(destination === 'api' && isUploadPath(path) ? uploadApi : api, req, res, timeoutMs, stats, opts.originHeaders);
  }
  const server = createServer({ requestTimeout: 3600_000, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) writeAnswer(res, ociError(500, 'UNKNOWN', 'front door failure', {}), { connection: 'close' });
      else res.destroy();
    });
  });
  // A client may half-close its side right after a request without a body (FIN after the headers);
  // CloudFront still answers it. Node's default would end the socket and abort the request at once,
  // while the API or ingest is still working on it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    server,
    stats,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
    },
  };
}
