// The registry over node:http: the request/response plumbing shared by the local server (`npm start`)
// and the ingest service (the same code wired to the AWS adapters). Idle and stalled connections, TLS
// probes, early answers with the rest of the body drained, and a graceful stop.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { API_VERSION_HEADERS, BodyReadError, type RegistryRequest } from '../core/http.ts';
import type { Registry } from '../core/registry.ts';
import { listenError } from './listen-error.ts';
import { log } from './log.ts';
import { serverIsBusy } from './idle.ts';
import { ociErrorBody } from '../core/errors.ts';

/** How long a graceful stop waits for requests in flight before it cuts their connections. */
export const STOP_GRACE_MS = 8_000;
/** How long requests whose connections were cut get to unwind (roll their upload back) before the database closes. */
export const UNWIND_MS = 1_000;
/** The process is gone this long after SIGTERM/SIGINT at the latest (inside `docker stop`'s default 10 s). */
export const STOP_DEADLINE_MS = STOP_GRACE_MS + UNWIND_MS + 500;

function toRegistryRequest(req: IncomingMessage): RegistryRequest {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    headers,
    body: hasBody ? readBody(req) : undefined,
    clientAddress: req.socket.remoteAddress ?? '',
  };
}

async function* readBody(req: IncomingMessage): AsyncIterable<Uint8Array> {
  try {
    // Stopping early (e.g. an oversized manifest) must not destroy the socket: the rest is drained.
    for await (const chunk of req.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
  } catch (e) {
    throw new BodyReadError(e);
  }
  if (!req.complete) throw new BodyReadError(new Error('request body ended early'));
}

/** Most request bytes read and discarded after an early answer before the connection is cut. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Reads and discards what the client still sends after an early answer (e.g. 413), so the client
 * sees the answer instead of a reset; a client that sends more than DRAIN_LIMIT is cut off.
 */
export function drainUnread(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.byteLength;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

async function respond(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  const out = await registry(toRegistryRequest(req));
  if (!req.complete) drainUnread(req);
  res.writeHead(out.status, out.headers);
  const body = req.method === 'HEAD' ? undefined : out.body;
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) res.end(body);
  else await pipeline(Readable.from(body), res);
  return out.errorCode;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  /** See LocalConfig.idleTimeoutSeconds; 0 disables. */
  idleTimeoutSeconds: number;
  registry: Registry;
  /** Paths served by their own `serve` instead of the registry (the local server's signed blob URLs, the web interface), first match wins. */
  extraRoutes?: ExtraRoute[];
}

export interface ExtraRoute {
  matches(path: string): boolean;
  /** Answers the request; resolves to the error code to log, if any. */
  serve(url: URL, req: IncomingMessage, res: ServerResponse): Promise<string | undefined>;
}

export interface RegistryHttpServer {
  url: string;
  server: Server;
  /** Keeps `close` waiting for work that is not a request (e.g. a sweep). */
  track(work: Promise<unknown>): void;
  /**
   * Graceful stop: stops listening at once, lets requests in flight finish for up to STOP_GRACE_MS,
   * then cuts the connections still open (their uploads roll back) and gives their requests up to
   * UNWIND_MS to unwind. The caller closes its stores afterwards.
   */
  close(): Promise<void>;
}

export async function startRegistryHttpServer(config: HttpServerOptions): Promise<RegistryHttpServer> {
  const { registry, extraRoutes = [] } = config;
  // The latest exchange on each connection (a pipelined request replaces the one before), for the
  // idle rule and for the clientError handler below: bytes after a pipelined request may be garbage,
  // and the request in flight on that socket is answered first.
  const lastExchange = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse; done: Promise<void> }>();
  // Work not finished yet (requests, a sweep): the database stays open until it settles.
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>): void => {
    inFlight.add(work);
    const settled = (): void => void inFlight.delete(work);
    work.then(settled, settled);
  };
  const server = createServer({ requestTimeout: 3600_000, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => {
    const started = performance.now();
    lastExchange.set(req.socket, { req, res, done: new Promise<void>((resolve) => res.once('close', resolve)) });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const extra = extraRoutes.find((r) => r.matches(path));
    const work = extra ? extra.serve(new URL(req.url ?? '/', 'http://local'), req, res) : respond(registry, req, res);
    const handled = work
      .catch((e: unknown) => {
        log('error', 'request failed', { method: req.method, path, error: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', connection: 'close' }).end('{"errors":[{"code":"UNKNOWN","message":"internal server error","detail":{}}]}');
        else res.destroy();
        return 'UNKNOWN';
      })
      .then((error) => {
        log('info', 'request', { method: req.method, path, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, error });
      });
    track(handled);
  });
  // Idle connections: a stalled client is cut off; a server still working on the request is not.
  const idleMs = config.idleTimeoutSeconds * 1000;
  server.setTimeout(idleMs);
  server.on('timeout', (socket: Socket) => {
    const exchange = lastExchange.get(socket);
    if (exchange && serverIsBusy({ socket, req: exchange.req, res: exchange.res })) socket.setTimeout(idleMs);
    else socket.destroy();
  });
  // A TLS ClientHello (or any non-HTTP bytes) on this plain-HTTP port: answer at once so clients that
  // probe for TLS first (skopeo, podman, docker) fall back to HTTP without waiting.
  server.on('clientError', (_err, socket: Socket) => {
    const refuse = () => {
      // No body: the parser cannot tell whether the request was a HEAD.
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    };
    const pending = lastExchange.get(socket);
    // A request whose own body was malformed can never finish: cut it off (its upload rolls back).
    if (pending && pending.req.complete) void pending.done.then(refuse);
    else if (pending) socket.destroy();
    else refuse();
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify(ociErrorBody('UNSUPPORTED', 'only "Expect: 100-continue" is supported'));
    res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...API_VERSION_HEADERS }).end(body);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (e) {
    throw listenError(e, config.host, config.port) ?? e;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    server,
    track,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => {
        log('warn', 'stop: cutting connections still open', { requests: inFlight.size });
        server.closeAllConnections();
      }, STOP_GRACE_MS);
      await closed;
      clearTimeout(cut);
      let unwound: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => (unwound = setTimeout(r, UNWIND_MS)))]);
      clearTimeout(unwound);
    },
  };
}
