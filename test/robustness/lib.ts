// Shared helpers for the robustness tests: a seeded PRNG, a bounded HTTP client that never throws on
// HTTP statuses (only on transport failures), digests and short request descriptions for reports.
import http from 'node:http';
import { createCipheriv, createHash } from 'node:crypto';

/** A small seeded PRNG (sfc32) so every generated input can be reproduced from the printed seed. */
export interface Rng {
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** A derived generator (independent stream). */
  fork(salt: number): Rng;
}

export function prng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const raw = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) raw();
  const rng: Rng = {
    next: () => raw() / 4294967296,
    int: (n) => Math.floor(rng.next() * n),
    range: (lo, hi) => lo + rng.int(hi - lo + 1),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from empty list');
      return items[rng.int(items.length)] as T;
    },
    chance: (p) => rng.next() < p,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = raw() & 0xff;
      return out;
    },
    fork: (salt) => prng((raw() ^ Math.imul(salt + 1, 0x9e3779b1)) | 0),
  };
  return rng;
}

export const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
  reusedSocket: boolean;
}

export class TransportError extends Error {
  readonly code: string;
  readonly ms: number;
  readonly reusedSocket: boolean;
  constructor(code: string, message: string, ms: number, reusedSocket: boolean) {
    super(`${code}: ${message}`);
    this.name = 'TransportError';
    this.code = code;
    this.ms = ms;
    this.reusedSocket = reusedSocket;
  }
}

export interface RequestSpec {
  method: string;
  /** Raw request target. Bytes >= 0x80 may be given as latin1 characters (sent verbatim). */
  path: string;
  headers?: Record<string, string | string[]>;
  /** A buffer (sent with Content-Length unless a length/encoding header is given), or a stream. */
  body?: Buffer | string | AsyncIterable<Uint8Array>;
}

export interface RequestOptions {
  agent?: http.Agent | false;
  timeoutMs?: number;
  /** Response bodies larger than this are drained but not kept. */
  maxBody?: number;
  /** Called with the request once it is created (e.g. to abort it later). */
  onRequest?: (req: http.ClientRequest) => void;
  /** Called after each body chunk is written (streamed bodies). */
  onProgress?: (sent: number) => void;
}

/**
 * Sends one request and resolves with the full response. Rejects with TransportError on resets,
 * timeouts and other socket failures (never on HTTP error statuses).
 */
export function send(base: URL, spec: RequestSpec, opts: RequestOptions = {}): Promise<HttpResult> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBody = opts.maxBody ?? 64 * 1024 * 1024;
  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    let responseStatus: number | undefined;
    let req: http.ClientRequest;
    const headers: Record<string, string | string[]> = { ...(spec.headers ?? {}) };
    const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding');
    if ((typeof spec.body === 'string' || Buffer.isBuffer(spec.body)) && !hasLength) {
      headers['content-length'] = String(Buffer.byteLength(spec.body));
    }
    const fail = (code: string, message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const seen = responseStatus === undefined ? '' : ` (a ${responseStatus} response had begun to arrive)`;
      reject(new TransportError(code, `${message}${seen}`, performance.now() - started, req?.reusedSocket ?? false));
    };
    const timer = setTimeout(() => {
      fail('TIMEOUT', `no complete response within ${timeoutMs} ms`);
      req?.destroy();
    }, timeoutMs);
    try {
      req = http.request({
        host: base.hostname,
        port: base.port,
        method: spec.method,
        path: spec.path,
        headers,
        agent: opts.agent ?? false,
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      fail(`CLIENT_${err.code ?? 'ERROR'}`, err.message);
      return;
    }
    opts.onRequest?.(req);
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ERROR', e.message));
    req.on('response', (res) => {
      responseStatus = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBody) chunks.push(c);
      });
      res.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? 'ERROR', e.message));
      res.on('aborted', () => fail('ABORTED', 'response aborted'));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started, reusedSocket: req.reusedSocket });
      });
    });
    const body = spec.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    void (async () => {
      let sent = 0;
      try {
        for await (const chunk of body) {
          if (settled || req.destroyed) return;
          sent += chunk.byteLength;
          if (!req.write(chunk)) {
            await new Promise<void>((r) => {
              const done = (): void => {
                req.off('drain', done);
                req.off('close', done);
                r();
              };
              req.on('drain', done);
              req.on('close', done);
            });
          }
          opts.onProgress?.(sent);
        }
        if (!req.destroyed) req.end();
      } catch (e) {
        req.destroy(e as Error);
      }
    })();
  });
}

/** Resolves a Location header (absolute or relative) to the path + query to request on `base`. */
export function locationPath(base: URL, location: string | undefined): string {
  if (location === undefined) throw new Error('response has no Location header');
  const u = new URL(location, base);
  return u.pathname + u.search;
}

/** Appends `q` to a path that may already carry a query. */
export const withQuery = (path: string, q: string): string => `${path}${path.includes('?') ? '&' : '?'}${q}`;

export function headerValue(res: HttpResult, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A short, printable description of a request for failure reports. */
export function describeRequest(spec: RequestSpec): string {
  const path = spec.path.length > 300 ? `${printable(spec.path.slice(0, 300))}...(${spec.path.length} chars)` : printable(spec.path);
  const hdrs = Object.entries(spec.headers ?? {})
    .map(([k, v]) => {
      const s = Array.isArray(v) ? v.join(', ') : v;
      return `${k}: ${s.length > 80 ? `${printable(s.slice(0, 80))}...(${s.length} chars)` : printable(s)}`;
    })
    .join('; ');
  let body = '';
  if (typeof spec.body === 'string' || Buffer.isBuffer(spec.body)) {
    const b = Buffer.from(spec.body);
    body = ` body(${b.length} bytes): ${printable(b.subarray(0, 120).toString('latin1'))}${b.length > 120 ? '...' : ''}`;
  } else if (spec.body) {
    body = ' body: <stream>';
  }
  return `${spec.method} ${path}${hdrs ? ` [${hdrs}]` : ''}${body}`;
}

export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function describeResult(res: HttpResult): string {
  const ct = String(res.headers['content-type'] ?? '');
  const textual = ct.includes('json') || ct.startsWith('text/');
  const limit = textual ? 300 : 60;
  const body = res.body.length ? ` body(${res.body.length} bytes${textual ? '' : `, ${ct || 'no content-type'}`}): ${printable(res.body.subarray(0, limit).toString('latin1'))}${res.body.length > limit ? '...' : ''}` : '';
  return `${res.status}${body}`;
}

/**
 * A deterministic pseudo-random byte stream (AES-256-CTR over zeros) of `size` bytes in `chunk`-sized
 * pieces; the same key always yields the same bytes, so a body can be hashed first and sent later
 * without ever being held in memory. `start` (a multiple of 16) seeks into the same stream.
 */
export async function* pseudoRandomStream(key: Buffer, size: number, chunk = 1024 * 1024, start = 0): AsyncGenerator<Buffer> {
  if (start % 16 !== 0) throw new Error('start must be a multiple of 16');
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(start / 16), 8);
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(key).digest(), iv);
  const zeros = Buffer.alloc(chunk);
  let left = size;
  while (left > 0) {
    const n = Math.min(chunk, left);
    yield cipher.update(n === chunk ? zeros : zeros.subarray(0, n));
    left -= n;
  }
}

export async function streamDigest(stream: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c);
    size += c.byteLength;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

/** GETs `path` and hashes the response body as it streams (never buffering it). */
export function fetchDigest(base: URL, path: string, timeoutMs = 60_000): Promise<{ status: number; headers: http.IncomingHttpHeaders; digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method: 'GET', path, agent: false });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path}: no complete response within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('response', (res) => {
      const h = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        size += c.length;
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, digest: `sha256:${h.digest('hex')}`, size });
      });
    });
    req.end();
  });
}
