// Runs the CloudFront Functions' real code (functions/edge/*.js) outside CloudFront: in a Node `vm`
// context that offers only what the cloudfront-js-2.0 runtime offers (the ECMAScript built-ins,
// Buffer, console.log, a `crypto` module with createHash/createHmac, a `cloudfront` module with a
// KeyValueStore and the origin-modification helpers; no require, timers, network or eval; Date frozen
// at the start of each run), and converts between Node HTTP requests and CloudFront event objects.
// Used by `npm run start:aws` and by the tests. CloudFront's checks on a function's result (read-only
// and disallowed headers, an unchanged method) are applied too: a violation throws, where CloudFront
// would answer 502.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, createHmac, type BinaryToTextEncoding } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { Script, compileFunction, createContext } from 'node:vm';
import type { SigningKey } from '../../functions/core/tokens.ts';
import { blankLines, coverableSource } from './coverable-source.ts';
import { edgeFunctionFile, edgeFunctionSource, uploadKeyName, type EdgeConfig, type EdgeFunctionName, type ReadRoutingConfig } from '../../functions/edge/source.ts';

export interface CfValue {
  value: string;
  multiValue?: { value: string }[];
}
export type CfMap = Record<string, CfValue>;

export interface CfRequest {
  method: string;
  uri: string;
  querystring: CfMap;
  headers: CfMap;
  cookies: CfMap;
}

export interface CfResponse {
  statusCode: number;
  statusDescription?: string;
  headers: CfMap;
  cookies?: CfMap;
  body?: string | { encoding: 'text' | 'base64'; data: string };
}

export interface CfEvent {
  version: '1.0';
  context: { eventType: 'viewer-request' | 'viewer-response'; distributionId: string; distributionDomainName: string; requestId: string };
  viewer: { ip: string };
  request: CfRequest;
  response?: CfResponse;
}

/** Where the viewer-request function sent the request: the behaviour's default origin unless it chose one. */
export type OriginChoice = { kind: 'default' } | { kind: 'id'; id: string } | { kind: 'update'; params: unknown } | { kind: 'group'; params: unknown };

export type RunResult = { kind: 'request'; request: CfRequest; origin: OriginChoice } | { kind: 'response'; response: CfResponse; origin: OriginChoice };

/** An in-memory CloudFront KeyValueStore (string values). */
export class KeyValueStore {
  readonly #items = new Map<string, string>();
  set(key: string, value: string): void {
    this.#items.set(key, value);
  }
  delete(key: string): void {
    this.#items.delete(key);
  }
  /** The handle the function gets from cf.kvs(): get throws on a missing key, as in the runtime. */
  handle(): object {
    const items = this.#items;
    return Object.freeze({
      async get(key: string, options?: { format?: 'string' | 'json' | 'bytes' }): Promise<unknown> {
        const v = items.get(key);
        if (v === undefined) throw new Error('KeyNotFound');
        if (options?.format === 'json') return JSON.parse(v) as unknown;
        if (options?.format === 'bytes') return Buffer.from(v);
        return v;
      },
      async exists(key: string): Promise<boolean> {
        return items.has(key);
      },
      async meta(): Promise<object> {
        return { creationDateTime: new Date(0).toISOString(), lastUpdatedDateTime: new Date(0).toISOString(), keyCount: items.size };
      },
    });
  }
}

/** Publishes upload-token keys as the deployment does: `upload-key-<kid>` -> the secret as base64. */
export function uploadKeysStore(keys: readonly SigningKey[], kvs: KeyValueStore = new KeyValueStore()): KeyValueStore {
  for (const k of keys) kvs.set(uploadKeyName(k.id), Buffer.from(k.secret).toString('base64'));
  return kvs;
}

const ENCODINGS = new Set(['hex', 'base64', 'base64url']);
const ALGORITHMS = new Set(['md5', 'sha1', 'sha256']);

function digestOf(h: { digest(): Buffer; digest(e: BinaryToTextEncoding): string }, encoding?: string): Buffer | string {
  if (encoding === undefined) return h.digest();
  if (!ENCODINGS.has(encoding)) throw new Error(`unsupported digest encoding: ${encoding}`);
  return h.digest(encoding as BinaryToTextEncoding);
}

/** The runtime's crypto module: hash and HMAC, md5/sha1/sha256, hex/base64/base64url. */
const cryptoModule = Object.freeze({
  createHash(algorithm: string) {
    if (!ALGORITHMS.has(algorithm)) throw new Error(`unsupported hash algorithm: ${algorithm}`);
    const h = createHash(algorithm);
    const api = { update: (data: string | Uint8Array) => (h.update(data), api), digest: (encoding?: string) => digestOf(h, encoding) };
    return api;
  },
  createHmac(algorithm: string, key: string | Uint8Array) {
    if (!ALGORITHMS.has(algorithm)) throw new Error(`unsupported hmac algorithm: ${algorithm}`);
    const h = createHmac(algorithm, key);
    const api = { update: (data: string | Uint8Array) => (h.update(data), api), digest: (encoding?: string) => digestOf(h, encoding) };
    return api;
  },
});

const MODULES = new Set(['cloudfront', 'crypto']);
const IMPORT = /^import\s+([A-Za-z_$][\w$]*)\s+from\s+'([^']+)';[ \t]*$/gm;

/** The module names a function's source imports (`import x from '...'`). */
export function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[2]!);
}

const READ_ONLY_REQUEST = ['content-length', 'host', 'transfer-encoding', 'via'];
const READ_ONLY_RESPONSE = ['content-encoding', 'content-length', 'transfer-encoding', 'warning', 'via'];
const DISALLOWED =
  /^(connection|expect|keep-alive|proxy-authenticate|proxy-authorization|proxy-connection|trailer|upgrade|x-accel-.*|x-amz-cf-.*|x-amzn-.*|x-cache|x-edge-.*|x-forwarded-proto|x-real-ip)$/;

function checkHeaders(before: CfMap, after: CfMap, readOnly: string[]): void {
  for (const name of Object.keys(after)) {
    if (name !== name.toLowerCase()) throw new Error(`header names must be lower case: ${name}`);
    if (DISALLOWED.test(name) && !(name in before)) throw new Error(`function added a disallowed header: ${name}`);
    if (typeof after[name]?.value !== 'string') throw new Error(`header ${name} has no string value`);
  }
  for (const name of readOnly) {
    if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) throw new Error(`function changed the read-only header ${name}`);
  }
}

export interface EdgeFunctionOptions {
  /** Deploy-time settings of the viewer-request or read-routing function (the file's defaults otherwise). */
  config?: EdgeConfig | ReadRoutingConfig;
  kvs?: KeyValueStore;
  /** Called with what the function logs (console.log). */
  log?: (line: string) => void;
  /** Code to run instead of the deployed file (tests of the harness itself). */
  source?: string;
}

export interface EdgeFunction {
  readonly name: EdgeFunctionName;
  readonly source: string;
  /** Runs the handler on a copy of `event`. `now` (epoch ms) is what Date returns during the run. */
  run(event: CfEvent, opts?: { now?: number }): Promise<RunResult>;
}

/** Loads a function's deployed code into a fresh runtime-like context. */
export function loadEdgeFunction(name: EdgeFunctionName, opts: EdgeFunctionOptions = {}): EdgeFunction {
  const source = opts.source ?? edgeFunctionSource(name, opts.config);
  const kvs = opts.kvs ?? new KeyValueStore();
  // Each run has its own clock and origin choice, also when runs overlap (start:aws serves requests
  // concurrently and a run awaits the KeyValueStore).
  const runs = new AsyncLocalStorage<{ phase: CfEvent['context']['eventType']; origin: OriginChoice; now: number }>();
  const choose = (choice: OriginChoice): void => {
    const run = runs.getStore();
    if (!run) throw new Error('origin modification outside a run');
    if (run.phase !== 'viewer-request') throw new Error('origin modification is only available in viewer request functions');
    run.origin = choice;
  };
  const cloudfront = Object.freeze({
    kvs: () => kvs.handle(),
    selectRequestOriginById: (id: string) => choose({ kind: 'id', id: String(id) }),
    updateRequestOrigin: (params: unknown) => choose({ kind: 'update', params: structuredClone(params) }),
    createRequestOriginGroup: (params: unknown) => choose({ kind: 'group', params: structuredClone(params) }),
  });
  const modules: Record<string, unknown> = { cloudfront, crypto: cryptoModule };

  const names: string[] = [];
  const specifiers: string[] = [];
  for (const [, local, specifier] of source.matchAll(IMPORT)) {
    if (!MODULES.has(specifier!)) throw new Error(`${name}: the runtime has no module ${JSON.stringify(specifier)}`);
    names.push(local!);
    specifiers.push(specifier!);
  }
  // The deployed file is compiled so that V8's coverage maps onto functions/edge/ (coverable-source.ts).
  const coverable = opts.source === undefined ? coverableSource(readFileSync(edgeFunctionFile(name), 'utf8'), source) : undefined;
  const body = blankLines(coverable?.code ?? source, IMPORT);
  if (/^\s*import\b/m.test(body)) throw new Error(`${name}: unsupported import form`);

  const log = opts.log ?? (() => undefined);
  const context = createContext({ Buffer, console: Object.freeze({ log: (...a: unknown[]) => log(a.map(String).join(' ')) }) }, { codeGeneration: { strings: false, wasm: false } });
  // Date returns the run's start time throughout the run, as in the runtime.
  const freezeDate = new Script(
    `((now) => { const D = Date;
      globalThis.Date = class extends D { constructor(...a) { if (a.length === 0) super(now()); else super(...a); } static now() { return now(); } }; })`,
  ).runInContext(context) as (now: () => number) => void;
  freezeDate(() => runs.getStore()?.now ?? Date.now());
  // A function whose body is the code itself (no prefix): offsets in it are offsets in the file.
  const settings = coverable?.params ?? {};
  const factory = compileFunction(`${body}\n;return typeof handler === 'function' ? handler : undefined;`, [...names, ...Object.keys(settings)], {
    filename: coverable ? edgeFunctionFile(name).href : `functions/edge/${name}.js`,
    parsingContext: context,
  }) as (...m: unknown[]) => ((e: unknown) => unknown) | undefined;
  const handler = factory(...specifiers.map((s) => modules[s]), ...Object.values(settings));
  if (!handler) throw new Error(`${name}: no handler function`);

  return {
    name,
    source,
    async run(event, runOpts = {}) {
      const input = structuredClone(event);
      const state = { phase: input.context.eventType, origin: { kind: 'default' } as OriginChoice, now: runOpts.now ?? Date.now() };
      const phase = state.phase;
      const result = (await runs.run(state, () => handler(input))) as CfRequest | CfResponse | undefined;
      const origin = state.origin;
      if (!result || typeof result !== 'object') throw new Error(`${name}: the handler returned no request or response`);
      if (phase === 'viewer-response') {
        const response = result as CfResponse;
        if (typeof response.statusCode !== 'number') throw new Error(`${name}: the result is not a response`);
        checkHeaders(event.response?.headers ?? {}, response.headers ?? {}, READ_ONLY_RESPONSE);
        return { kind: 'response', response: structuredClone(response), origin };
      }
      if ('statusCode' in result) return { kind: 'response', response: structuredClone(result), origin };
      const request = result;
      if (request.method !== event.request.method) throw new Error(`${name}: the function changed the method`);
      checkHeaders(event.request.headers, request.headers, READ_ONLY_REQUEST);
      return { kind: 'request', request: structuredClone(request), origin };
    },
  };
}

// Conversions between Node HTTP and CloudFront event objects.

/** CloudFront's query string object from a raw query (values kept as sent, percent-encoded). */
export function parseQueryString(raw: string): CfMap {
  const out: CfMap = {};
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    const key = i < 0 ? part : part.slice(0, i);
    const value = i < 0 ? '' : part.slice(i + 1);
    const existing = out[key];
    if (!existing) out[key] = { value };
    else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }];
  }
  return out;
}

export function serializeQueryString(qs: CfMap): string {
  const parts: string[] = [];
  for (const [key, v] of Object.entries(qs)) {
    for (const one of v.multiValue && v.multiValue.length > 0 ? v.multiValue : [v]) parts.push(one.value === '' ? key : `${key}=${one.value}`);
  }
  return parts.join('&');
}

function cfHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): { headers: CfMap; cookies: CfMap } {
  const out: CfMap = {};
  const cookies: CfMap = {};
  for (const [rawName, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const name = rawName.toLowerCase();
    const values = Array.isArray(raw) ? raw : [raw];
    if (name === 'cookie') {
      for (const pair of values.join('; ').split(/;\s*/)) {
        const i = pair.indexOf('=');
        if (i > 0) cookies[pair.slice(0, i)] = { value: pair.slice(i + 1) };
      }
      continue;
    }
    out[name] = values.length > 1 ? { value: values[0]!, multiValue: values.map((value) => ({ value })) } : { value: values[0]! };
  }
  return { headers: out, cookies };
}

/** A viewer-request event for a Node request (`url` is the request target: path and query). */
export function requestEvent(req: { method: string; url: string; headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>; ip?: string }): CfEvent {
  const q = req.url.indexOf('?');
  const { headers, cookies } = cfHeaders(req.headers);
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'ELOCAL', distributionDomainName: 'local.cloudfront.test', requestId: Math.random().toString(36).slice(2) },
    viewer: { ip: req.ip ?? '127.0.0.1' },
    request: { method: req.method.toUpperCase(), uri: q < 0 ? req.url : req.url.slice(0, q), querystring: parseQueryString(q < 0 ? '' : req.url.slice(q + 1)), headers, cookies },
  };
}

/** The viewer-response event for `request` (as the viewer-request function left it) and an origin's answer. */
export function responseEvent(request: CfRequest, status: number, headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): CfEvent {
  const converted = cfHeaders(headers).headers;
  return {
    version: '1.0',
    context: { eventType: 'viewer-response', distributionId: 'ELOCAL', distributionDomainName: 'local.cloudfront.test', requestId: Math.random().toString(36).slice(2) },
    viewer: { ip: '127.0.0.1' },
    request: structuredClone(request),
    response: { statusCode: status, statusDescription: '', headers: converted, cookies: {} },
  };
}

/** Node headers from CloudFront headers (multi-values kept as arrays) plus cookies. */
export function nodeHeaders(headers: CfMap, cookies: CfMap = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, v] of Object.entries(headers)) out[name] = v.multiValue && v.multiValue.length > 1 ? v.multiValue.map((m) => m.value) : v.value;
  const cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v.value}`);
  if (cookie.length > 0) out.cookie = cookie.join('; ');
  return out;
}

/** The request target (path and query) of a request a function returned. */
export function requestTarget(request: CfRequest): string {
  const qs = serializeQueryString(request.querystring);
  return qs === '' ? request.uri : `${request.uri}?${qs}`;
}

/** The body bytes of a response a function generated. */
export function responseBody(response: CfResponse): Buffer {
  const body = response.body;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
}

/** Writes a response a function generated (or rewrote, without a body: pass `body` separately). */
export function writeResponse(res: ServerResponse, response: CfResponse, body: Buffer = responseBody(response)): void {
  const headers = nodeHeaders(response.headers);
  if (body.length > 0 || headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  res.writeHead(response.statusCode, response.statusDescription || undefined, headers);
  res.end(body);
}
