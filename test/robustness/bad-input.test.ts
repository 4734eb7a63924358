// Robustness: thousands of generated bad requests against one running local registry. Asserts no 5xx,
// no resets or hangs, OCI JSON error bodies, the lead's status/code decisions for clear-cut inputs,
// that rejected requests leave no state behind, and that the process is still alive at the end.
// Also raw-socket garbage (non-HTTP bytes, a TLS ClientHello, truncated and short-bodied requests).
//
// Reproduce a run with ROBUST_SEED=<seed> (printed at start); run one case with ROBUST_CASE=<n>.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { randomInt, randomUUID } from 'node:crypto';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { ErrorCodes } from '../../functions/core/errors.ts';
import {
  describeRequest,
  describeResult,
  headerValue,
  locationPath,
  printable,
  prng,
  send,
  sha256,
  TransportError,
  type HttpResult,
  type RequestSpec,
  type Rng,
} from './lib.ts';

const SEED = process.env.ROBUST_SEED !== undefined ? Number(process.env.ROBUST_SEED) : randomInt(2 ** 31);
const ONLY_CASE = process.env.ROBUST_CASE !== undefined ? Number(process.env.ROBUST_CASE) : undefined;
const TARGET_REQUESTS = 4000;
const MIN_REQUESTS = 3000;
const BUDGET_MS = 32_000;
const REQ_TIMEOUT_MS = 5000;
const WORKERS = 12;

const REPO = 'robust/base';
const MF = 'robust/mf';
const OTHER = 'robust/other';
const FUZZ = 'robust/fuzz';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MAX_MANIFEST = 4 * 1024 * 1024;
const KNOWN_CODES = new Set(Object.keys(ErrorCodes));

console.log(`bad-input seed: ${SEED} (rerun with ROBUST_SEED=${SEED})`);

// ---------------------------------------------------------------------------------------------------
// Expectations and bookkeeping

interface Expect {
  /** Exact status(es), or '4xx' for any client error. Absent: only the generic checks apply. */
  status?: number | readonly number[] | '4xx';
  /** Allowed OCI error code(s) (checked on non-HEAD error responses). */
  code?: string | readonly string[];
  /** For 405: methods that must not be listed in Allow (the one sent). */
  notAllowed?: string;
}

const E = (status: number | readonly number[] | '4xx', code?: string | readonly string[]): Expect => (code === undefined ? { status } : { status, code });
const X4: Expect = { status: '4xx' };
const ANY: Expect = {};

interface Failure {
  kind: string;
  text: string;
}

class Stats {
  requests = 0;
  readonly histogram = new Map<string, number>();
  readonly failures: Failure[] = [];
  readonly casesRun = new Map<string, number>();
  /** Statuses seen per variant (printed with ROBUST_VERBOSE=1). */
  readonly perVariant = new Map<string, Map<string, number>>();

  countFor(variant: string, key: string): void {
    const m = this.perVariant.get(variant) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    this.perVariant.set(variant, m);
  }

  count(key: string): void {
    this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
  }

  fail(kind: string, text: string): void {
    this.failures.push({ kind, text });
  }

  byKind(pred: (kind: string) => boolean): Failure[] {
    return this.failures.filter((f) => pred(f.kind));
  }
}

function report(stats: Stats, failures: Failure[], max = 40): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) groups.set(f.kind, [...(groups.get(f.kind) ?? []), f]);
  const lines = [`seed ${SEED}: ${failures.length} failure(s) in ${groups.size} kind(s)`];
  for (const [kind, list] of groups) {
    lines.push(`--- ${kind}: ${list.length}`);
    for (const f of list.slice(0, max)) lines.push(`  ${f.text}`);
    if (list.length > max) lines.push(`  ... ${list.length - max} more`);
  }
  return lines.join('\n');
}

function parseError(res: HttpResult): { code?: unknown; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    return { problem: 'body is not JSON' };
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return { problem: 'JSON body has no errors[]' };
  const first = errors[0] as { code?: unknown; message?: unknown } | null;
  if (typeof first?.code !== 'string') return { problem: 'errors[0].code is not a string' };
  return { code: first.code };
}

function statusMatches(status: number, want: Expect['status']): boolean {
  if (want === undefined) return true;
  if (want === '4xx') return status >= 400 && status < 500;
  return typeof want === 'number' ? status === want : want.includes(status);
}

/** The checks every HTTP response gets, then the case's own expectation. */
function checkResponse(spec: RequestSpec, res: HttpResult, expect: Expect): { kind: string; msg: string }[] {
  const problems: { kind: string; msg: string }[] = [];
  const isHead = spec.method === 'HEAD';
  if (res.status >= 500) problems.push({ kind: '5xx response', msg: `status ${res.status}` });
  if (headerValue(res, 'docker-distribution-api-version') !== 'registry/2.0') {
    problems.push({ kind: 'missing Docker-Distribution-API-Version: registry/2.0', msg: `header was ${JSON.stringify(headerValue(res, 'docker-distribution-api-version'))}` });
  }
  let code: string | undefined;
  if (res.status >= 400 && !isHead) {
    const e = parseError(res);
    if (e.problem) problems.push({ kind: 'error response without OCI JSON error body', msg: e.problem });
    else {
      code = e.code as string;
      if (!KNOWN_CODES.has(code)) problems.push({ kind: 'unknown OCI error code', msg: `code ${code}` });
      const ct = headerValue(res, 'content-type') ?? '';
      if (!ct.startsWith('application/json')) problems.push({ kind: 'error response Content-Type is not application/json', msg: `Content-Type ${ct}` });
    }
  }
  if (res.status === 405) {
    const allow = headerValue(res, 'allow');
    if (!allow) problems.push({ kind: '405 without Allow header', msg: 'no Allow header' });
    else if (expect.notAllowed && allow.split(',').map((m) => m.trim().toUpperCase()).includes(expect.notAllowed)) {
      problems.push({ kind: '405 Allow lists the rejected method', msg: `Allow: ${allow}` });
    }
  }
  if (!isHead && res.status < 300 && (headerValue(res, 'content-type') ?? '').startsWith('application/json') && res.body.length > 0) {
    try {
      JSON.parse(res.body.toString('utf8'));
    } catch {
      problems.push({ kind: 'success response with unparsable JSON body', msg: 'JSON.parse failed' });
    }
  }
  if (!statusMatches(res.status, expect.status)) {
    problems.push({ kind: 'status differs from the contract', msg: `expected ${JSON.stringify(expect.status)}${expect.code ? ` ${JSON.stringify(expect.code)}` : ''}` });
  } else if (expect.code !== undefined && !isHead && res.status >= 400 && code !== undefined) {
    const codes = typeof expect.code === 'string' ? [expect.code] : expect.code;
    if (!codes.includes(code)) problems.push({ kind: 'error code differs from the contract', msg: `expected code ${codes.join('|')}` });
  }
  return problems;
}

interface Harness {
  req(spec: RequestSpec, expect?: Expect): Promise<HttpResult | undefined>;
  /** Records a failed state check of this case. */
  check(ok: boolean, kind: string, msg: string): void;
  label: string;
}

function harness(stats: Stats, base: URL, agent: http.Agent, label: string, variant: string): Harness {
  return {
    label,
    async req(spec, expect = ANY) {
      stats.requests++;
      let res: HttpResult;
      try {
        res = await send(base, spec, { agent, timeoutMs: REQ_TIMEOUT_MS });
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        const kind = e.code.startsWith('CLIENT_') ? 'test bug (client refused to send)' : e.code === 'TIMEOUT' ? 'hang (no response in time)' : `connection error ${e.code}`;
        stats.count(`error:${e.code}`);
        stats.countFor(variant, `${spec.method} error:${e.code}`);
        stats.fail(kind, `${label}: ${describeRequest(spec)} -> ${e.message} after ${Math.round(e.ms)} ms${e.reusedSocket ? ' (on a reused keep-alive socket)' : ''}`);
        return undefined;
      }
      // A request-target with bytes outside visible ASCII is not valid HTTP/1.1; node's parser rejects it
      // before the registry sees it (the server's clientError handler answers a bare 400). Count those
      // separately: they must be 400, not 5xx, and answered at once; the OCI body rules do not apply.
      if (/[^\x21-\x7e]/.test(spec.path) && res.status === 400 && res.body.length === 0 && headerValue(res, 'docker-distribution-api-version') === undefined) {
        stats.count('400 (HTTP parser)');
        stats.countFor(variant, `${spec.method} 400 (HTTP parser)`);
        return res;
      }
      stats.count(String(res.status));
      stats.countFor(variant, `${spec.method} ${res.status}${res.status >= 400 && spec.method !== 'HEAD' ? ` ${String(parseError(res).code ?? '')}` : ''}`);
      for (const p of checkResponse(spec, res, expect)) {
        stats.fail(p.kind, `${label}: ${describeRequest(spec)} -> ${p.msg}; got ${describeResult(res)}`);
      }
      return res;
    },
    check(ok, kind, msg) {
      if (!ok) stats.fail(kind, `${label}: ${msg}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

interface Ctx {
  base: URL;
  config: Blob;
  layer: Blob;
  otherBlob: Blob;
  manifest: Blob;
  /** Path + query of the signed URL a blob GET of `layer` in REPO redirects to. */
  signedPath: string;
}

/** `bad-*` tags whose PUT was (wrongly) accepted: already reported as a status mismatch. */
const acceptedBadTags = new Set<string>();

const blobOf = (bytes: Buffer): Blob => ({ bytes, digest: sha256(bytes), size: bytes.length });
const withQuery = (path: string, q: string): string => `${path}${path.includes('?') ? '&' : '?'}${q}`;
const rawUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
const hex64 = (rng: Rng): string => rng.bytes(32).toString('hex');
const uuidOf = (rng: Rng): string => {
  const x = rng.bytes(16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-a${x.slice(17, 20)}-${x.slice(20, 32)}`;
};

async function must(base: URL, spec: RequestSpec, status: number): Promise<HttpResult> {
  const res = await send(base, spec, { timeoutMs: 15_000 });
  if (res.status !== status) throw new Error(`setup: ${describeRequest(spec)} -> expected ${status}, got ${describeResult(res)}`);
  return res;
}

async function pushBlob(base: URL, repo: string, blob: Blob): Promise<void> {
  const post = await must(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/` }, 202);
  const loc = locationPath(base, headerValue(post, 'location'));
  await must(base, { method: 'PUT', path: withQuery(loc, `digest=${blob.digest}`), body: blob.bytes, headers: { 'content-type': 'application/octet-stream' } }, 201);
}

function manifestObject(c: { config: Blob; layer: Blob }): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: c.config.digest, size: c.config.size },
    layers: [{ mediaType: OCI_LAYER, digest: c.layer.digest, size: c.layer.size }],
  };
}

async function setup(base: URL): Promise<Ctx> {
  const rng = prng(SEED ^ 0x5eed);
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = blobOf(rng.bytes(4096));
  const otherBlob = blobOf(rng.bytes(777));
  const manifest = blobOf(Buffer.from(JSON.stringify(manifestObject({ config, layer }))));
  for (const repo of [REPO, MF, FUZZ]) {
    await pushBlob(base, repo, config);
    await pushBlob(base, repo, layer);
    await must(base, { method: 'PUT', path: `/v2/${repo}/manifests/good`, headers: { 'content-type': OCI_MANIFEST }, body: manifest.bytes }, 201);
  }
  await pushBlob(base, OTHER, otherBlob);
  const redirect = await must(base, { method: 'GET', path: `/v2/${REPO}/blobs/${layer.digest}` }, 307);
  const signedPath = locationPath(base, headerValue(redirect, 'location'));
  const got = await must(base, { method: 'GET', path: signedPath }, 200);
  if (!got.body.equals(layer.bytes)) throw new Error('setup: signed blob URL returned different bytes');
  return { base, config, layer, otherBlob, manifest, signedPath };
}

// ---------------------------------------------------------------------------------------------------
// Variants: every entry is one kind of bad input; the first pass runs each once, then they are drawn
// at random (with random parameters from the case's own PRNG) until the request budget is spent.

interface Variant {
  name: string;
  run(rng: Rng, h: Harness): Promise<void>;
}

type NameKind = 'strict' | 'notfound-ok' | 'loose' | 'decodable' | 'valid';

function buildVariants(c: Ctx): Variant[] {
  const v: Variant[] = [];
  const add = (name: string, run: Variant['run']): void => {
    v.push({ name, run });
  };
  const m = c.manifest;
  const someDigest = (rng: Rng): string => `sha256:${hex64(rng)}`;

  /** Starts an upload session in `repo`; returns its Location path (or undefined after a recorded failure). */
  const startSession = async (h: Harness, repo = REPO): Promise<string | undefined> => {
    const res = await h.req({ method: 'POST', path: `/v2/${repo}/blobs/uploads/` }, E(202));
    if (!res || res.status !== 202) return undefined;
    return locationPath(c.base, headerValue(res, 'location'));
  };
  /** Asserts the session's state through GET (204 + Range). */
  const expectRange = async (h: Harness, loc: string, range: string, why: string): Promise<void> => {
    const res = await h.req({ method: 'GET', path: loc }, E(204));
    if (res && res.status === 204) {
      h.check(headerValue(res, 'range') === range, 'rejected request changed upload state', `${why}: GET ${loc} Range expected ${range}, got ${headerValue(res, 'range')}`);
    }
  };
  const expectBlobAbsent = async (h: Harness, repo: string, digest: string, why: string): Promise<void> => {
    const res = await h.req({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` }, E(404));
    if (res) h.check(res.status === 404, 'rejected request left a blob visible', `${why}: HEAD ${digest} in ${repo} -> ${res.status}`);
  };
  const expectTagAbsent = async (h: Harness, repo: string, tag: string, why: string): Promise<void> => {
    const res = await h.req({ method: 'GET', path: `/v2/${repo}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
    if (res) h.check(res.status === 404, 'rejected manifest PUT left a tag visible', `${why}: GET tag ${tag} in ${repo} -> ${res.status}`);
  };

  // --- Repository names ------------------------------------------------------------------------
  const badNames: [string, string, NameKind][] = [
    ['uppercase', 'Robust/Base', 'strict'],
    ['uppercase-single', 'aBc', 'strict'],
    ['len256', 'a'.repeat(256), 'strict'],
    ['len256-segments', `${'abcdefg/'.repeat(31)}abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk`.slice(0, 256), 'strict'],
    ['len5000', 'a'.repeat(5000), 'strict'],
    ['empty-segment', 'robust//base', 'notfound-ok'],
    ['leading-separator', '/robust', 'notfound-ok'],
    ['trailing-separator', 'robust/', 'notfound-ok'],
    ['only-separator', '/', 'notfound-ok'],
    ['many-separators', `a${'/'.repeat(100)}b`, 'notfound-ok'],
    ['dotdot', '..', 'notfound-ok'],
    ['dotdot-inner', 'robust/../base', 'notfound-ok'],
    ['dot-inner', 'robust/./base', 'notfound-ok'],
    ['double-dot', 'a..b', 'strict'],
    ['leading-dash', '-abc', 'strict'],
    ['trailing-dash', 'abc-', 'strict'],
    ['leading-dot', '.abc', 'strict'],
    ['triple-underscore', 'a___b', 'strict'],
    ['leading-underscore', '_a', 'strict'],
    ['plus', 'a+b', 'strict'],
    ['colon', 'a:b', 'strict'],
    ['at', 'a@b', 'strict'],
    ['semicolon', 'a;b', 'strict'],
    ['comma', 'a,b', 'strict'],
    ['tilde', 'a~b', 'strict'],
    ['del-char', 'a\x7fb', 'strict'],
    ['backslash', 'a\\b', 'loose'],
    ['pct-slash', 'robust%2Fbase', 'decodable'],
    ['pct-letter', '%72obust', 'decodable'],
    ['pct-nul', 'a%00b', 'loose'],
    ['pct-invalid', 'a%zzb', 'loose'],
    ['pct-lone', 'a%', 'loose'],
    ['pct-dotdot', '%2e%2e/%2e%2e', 'loose'],
    ['pct-crlf-injection', 'a%0d%0aX-Injected:%201', 'loose'],
    ['pct-space', 'a%20b', 'loose'],
    ['pct-control', '%01%02%7f', 'loose'],
    ['utf8-raw', rawUtf8('résumé'), 'loose'],
    ['utf8-raw-cjk', rawUtf8('名前/x'), 'loose'],
    ['utf8-pct-emoji', encodeURIComponent('😀'), 'loose'],
    ['invalid-utf8-raw', '\xff\xfe\xc3\x28', 'loose'],
    ['overlong-utf8-slash-raw', '\xc0\xafa', 'loose'],
    ['question-mark', 'a?b', 'loose'],
    ['hash', 'a#b', 'loose'],
    ['len255-valid', 'a'.repeat(255), 'valid'],
    ['many-components-valid', Array.from({ length: 120 }, () => 'a').join('/'), 'valid'],
    ['separators-valid', 'a.b_c__d---e/f', 'valid'],
  ];
  type Route = { label: string; spec: (n: string, rng: Rng) => RequestSpec };
  const nameRoutes: Route[] = [
    { label: 'manifest-get', spec: (n) => ({ method: 'GET', path: `/v2/${n}/manifests/latest` }) },
    { label: 'manifest-head', spec: (n) => ({ method: 'HEAD', path: `/v2/${n}/manifests/latest` }) },
    { label: 'manifest-put', spec: (n) => ({ method: 'PUT', path: `/v2/${n}/manifests/latest`, headers: { 'content-type': OCI_MANIFEST }, body: m.bytes }) },
    { label: 'manifest-delete', spec: (n, rng) => ({ method: 'DELETE', path: `/v2/${n}/manifests/${someDigest(rng)}` }) },
    { label: 'blob-get', spec: (n) => ({ method: 'GET', path: `/v2/${n}/blobs/${c.layer.digest}` }) },
    { label: 'blob-head', spec: (n) => ({ method: 'HEAD', path: `/v2/${n}/blobs/${c.layer.digest}` }) },
    { label: 'blob-delete', spec: (n, rng) => ({ method: 'DELETE', path: `/v2/${n}/blobs/${someDigest(rng)}` }) },
    { label: 'upload-post', spec: (n) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/` }) },
    {
      label: 'upload-post-monolithic',
      spec: (n, rng) => {
        // Fresh random content: a name that percent-decodes to a real repository must not link a fixture blob there.
        const bytes = rng.bytes(rng.range(1, 2000));
        return { method: 'POST', path: `/v2/${n}/blobs/uploads/?digest=${sha256(bytes)}`, body: bytes };
      },
    },
    { label: 'upload-mount', spec: (n) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/?mount=${c.layer.digest}&from=${REPO}` }) },
    { label: 'upload-patch', spec: (n, rng) => ({ method: 'PATCH', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}?_state=${hex64(rng)}`, body: 'abc' }) },
    { label: 'upload-put', spec: (n, rng) => ({ method: 'PUT', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}?digest=${sha256('')}` }) },
    { label: 'upload-get', spec: (n, rng) => ({ method: 'GET', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}` }) },
    { label: 'tags-list', spec: (n) => ({ method: 'GET', path: `/v2/${n}/tags/list` }) },
    { label: 'referrers', spec: (n) => ({ method: 'GET', path: `/v2/${n}/referrers/${m.digest}` }) },
  ];
  for (const [label, name, kind] of badNames) {
    if (kind === 'valid') {
      add(`name/${label}/manifest-get (control)`, async (_rng, h) => {
        await h.req({ method: 'GET', path: `/v2/${name}/manifests/latest` }, E(404, ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']));
      });
      continue;
    }
    // 'decodable' names percent-decode to valid ones; whether the server decodes paths is its choice.
    const expect: Expect = kind === 'strict' ? E(400, 'NAME_INVALID') : kind === 'notfound-ok' ? E([400, 404], ['NAME_INVALID', 'NOT_FOUND']) : kind === 'decodable' ? ANY : X4;
    add(`name/${label}`, async (rng, h) => {
      const route = rng.pick(nameRoutes);
      await h.req(route.spec(name, rng), expect);
    });
    // The same bad name as the `from` of a cross-repository mount (a query value, so no routing ambiguity).
    add(`name/${label}/mount-from`, async (_rng, h) => {
      const from = encodeURIComponent(Buffer.from(name, 'latin1').toString('utf8'));
      await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?mount=${c.layer.digest}&from=${from}` }, kind === 'loose' || kind === 'decodable' ? ANY : E(400, 'NAME_INVALID'));
    });
  }

  // --- Tags ------------------------------------------------------------------------------------
  const badTags: [string, string, Expect][] = [
    ['len129', 'a'.repeat(129), E(400, 'TAG_INVALID')],
    ['len1000', 'b'.repeat(1000), E(400, 'TAG_INVALID')],
    ['leading-dot', '.abc', E(400, 'TAG_INVALID')],
    ['leading-dash', '-abc', E(400, 'TAG_INVALID')],
    ['plus', 'a+b', E(400, 'TAG_INVALID')],
    ['at', 'a@b', E(400, 'TAG_INVALID')],
    ['star', '*', E(400, 'TAG_INVALID')],
    ['tilde', 'a~b', E(400, 'TAG_INVALID')],
    ['pct-space', 'a%20b', E(400, 'TAG_INVALID')],
    ['pct-nul', 'a%00', E(400, 'TAG_INVALID')],
    ['utf8-raw', rawUtf8('tåg'), E(400, 'TAG_INVALID')],
    ['only-dot', '.', X4],
    ['dotdot', '..', X4],
    ['empty', '', X4],
  ];
  const tagMethods = ['GET', 'HEAD', 'DELETE', 'PUT'] as const;
  for (const [label, tag, expect] of badTags) {
    add(`tag/${label}`, async (rng, h) => {
      const method = rng.pick(tagMethods);
      const spec: RequestSpec = { method, path: `/v2/${MF}/manifests/${tag}` };
      if (method === 'PUT') Object.assign(spec, { headers: { 'content-type': OCI_MANIFEST }, body: m.bytes });
      await h.req(spec, expect);
    });
  }
  for (const [label, tag] of [
    ['len128-valid', 'a'.repeat(128)],
    ['underscore-valid', '_a'],
    ['mixed-valid', 'V1.0_rc-1'],
  ] as const) {
    add(`tag/${label} (control)`, async (rng, h) => {
      await h.req({ method: rng.pick(['GET', 'HEAD', 'DELETE']), path: `/v2/${MF}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
    });
  }

  // --- Digests ---------------------------------------------------------------------------------
  const badDigests = (rng: Rng): [string, string, boolean][] => {
    const hx = hex64(rng);
    // [label, digest, literal: true = strict DIGEST_INVALID in paths; false = may percent-decode to something]
    return [
      ['md5', 'md5:d41d8cd98f00b204e9800998ecf8427e', true],
      ['sha384-unsupported', `sha384:${hx}${hx.slice(0, 32)}`, true],
      ['short', 'sha256:abc', true],
      ['long', `sha256:${hx}a`, true],
      ['uppercase-hex', `sha256:${hx.toUpperCase()}`, true],
      ['uppercase-alg', `SHA256:${hx}`, true],
      ['missing-colon', `sha256${hx}`, true],
      ['alone', 'sha256:', true],
      ['empty-alg', `:${hx}`, true],
      ['colon-only', ':', true],
      ['double-colon', `sha256::${hx}`, true],
      ['non-hex', `sha256:${'g'.repeat(64)}`, true],
      ['sha512-wrong-length', `sha512:${hx}`, true],
      ['huge', `sha256:${hx.repeat(120)}`, true],
      ['b64-alg', 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', true],
      ['dots', 'sha256:..', true],
      ['pct-trailing-space', `sha256:${hx}%20`, false],
      ['pct-colon', `sha256%3A${hx}`, false],
      ['pct-nul', `sha256:${hx}%00`, false],
      ['utf8-raw', rawUtf8(`sha256:${hx.slice(0, 63)}é`), true],
    ];
  };
  const digestLabels = badDigests(prng(1)).map(([l]) => l);
  for (const label of digestLabels) {
    add(`digest/${label}`, async (rng, h) => {
      const found = badDigests(rng).find(([l]) => l === label);
      if (!found) throw new Error(`no digest variant ${label}`);
      const [, d, literal] = found;
      const q = encodeURIComponent(Buffer.from(d, 'latin1').toString('utf8'));
      const strict = E(400, 'DIGEST_INVALID');
      // `sha256%3A<hex>` percent-decodes to a well-formed (unknown) digest.
      const inPath = label === 'pct-colon' ? ANY : X4;
      const routes: (() => Promise<unknown>)[] = [
        () => h.req({ method: rng.pick(['GET', 'HEAD', 'DELETE']), path: `/v2/${REPO}/blobs/${d}` }, literal ? strict : inPath),
        () => h.req({ method: 'GET', path: `/v2/${REPO}/referrers/${d}` }, literal ? strict : inPath),
        () => h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${q}`, body: c.otherBlob.bytes }, strict),
        () => h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?mount=${q}&from=${REPO}` }, strict),
        async () => {
          const loc = await startSession(h);
          if (loc) {
            await h.req({ method: 'PUT', path: withQuery(loc, `digest=${q}`), body: 'abc' }, strict);
          }
        },
      ];
      // Manifest references containing ':' are digests.
      if (d.includes(':')) {
        routes.push(() => {
          const method = rng.pick(['GET', 'HEAD', 'DELETE', 'PUT'] as const);
          const spec: RequestSpec = { method, path: `/v2/${MF}/manifests/${d}` };
          if (method === 'PUT') Object.assign(spec, { headers: { 'content-type': OCI_MANIFEST }, body: m.bytes });
          return h.req(spec, literal ? strict : inPath);
        });
      }
      await rng.pick(routes)();
    });
  }
  add('digest/unknown-valid (control)', async (rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${someDigest(rng)}` }, E(404, 'BLOB_UNKNOWN'));
  });
  add('digest/monolithic-mismatch', async (rng, h) => {
    const claimed = someDigest(rng);
    const body = rng.bytes(rng.range(1, 3000));
    await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${claimed}`, body }, E(400, 'DIGEST_INVALID'));
    await expectBlobAbsent(h, REPO, claimed, 'monolithic POST with wrong digest');
    await expectBlobAbsent(h, REPO, sha256(body), 'monolithic POST with wrong digest (actual content)');
  });

  // --- Query parameters ------------------------------------------------------------------------
  const badN: [string, Expect][] = [
    ['-1', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['abc', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1.5', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['NaN', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['Infinity', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['-Infinity', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1%2C2', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['%00', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['%F0%9F%98%80', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1000000000', E(200)],
    ['99999999999999999999', E(200)],
    ['1e9', ANY],
    ['0x10', ANY],
    ['%2B1', ANY],
    ['%201', ANY],
    ['-0', ANY],
    ['', ANY],
  ];
  for (const [n, expect] of badN) {
    add(`query/n=${n}`, async (rng, h) => {
      const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?n=${n}` : `/v2/_catalog?n=${n}`;
      const res = await h.req({ method: 'GET', path }, expect);
      if (res?.status === 200) {
        const body = JSON.parse(res.body.toString()) as { tags?: unknown; repositories?: unknown };
        const list = path.includes('tags') ? body.tags : body.repositories;
        h.check(Array.isArray(list) && list.length <= 1000, 'list page is not an array of at most 1000', `${path} -> ${printable(res.body.toString().slice(0, 200))}`);
      }
    });
  }
  add('query/n=0 (control)', async (rng, h) => {
    const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?n=0` : '/v2/_catalog?n=0';
    const res = await h.req({ method: 'GET', path }, E(200));
    if (res?.status === 200) {
      const body = JSON.parse(res.body.toString()) as { tags?: unknown; repositories?: unknown };
      const list = path.includes('tags') ? body.tags : body.repositories;
      h.check(Array.isArray(list) && list.length === 0, 'n=0 did not return an empty list', `${path} -> ${printable(res.body.toString().slice(0, 200))}`);
    }
  });
  const weirdQueries = [
    'last=%00',
    'last=%ff',
    'last=%C3%28',
    `last=${rawUtf8('ä')}`,
    `last=${'z'.repeat(5000)}`,
    'last=..%2F..%2F',
    'last=%',
    'last=%zz',
    'last=',
    'last=a%0d%0aX-Injected:%201',
    'n=1&n=2',
    'n=-1&n=2',
    'n=2&n=-1',
    'last=a&last=b',
    'n=1&n=abc',
    'n=1&last=\xff\xfe',
    'n=1&',
    '&&&',
    'n',
    '=1',
    '%zz=1',
    'n=1;last=a',
    `${'x=1&'.repeat(500)}n=1`,
  ];
  for (const q of weirdQueries) {
    add(`query/${printable(q).slice(0, 40)}`, async (rng, h) => {
      const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?${q}` : `/v2/_catalog?${q}`;
      const res = await h.req({ method: 'GET', path }, E([200, 400]));
      if (res?.status === 200) {
        const link = headerValue(res, 'link');
        if (link) h.check(/^<\/v2\/[^>]*>; rel="next"$/.test(link), 'malformed Link header', `${path} -> Link: ${printable(link)}`);
      }
    });
  }
  // mount / from combinations
  const mounts: [string, (rng: Rng) => string, Expect][] = [
    ['mount-existing-from-holder (control)', () => `mount=${c.layer.digest}&from=${REPO}`, E(201)],
    ['mount-existing-without-from', () => `mount=${c.layer.digest}`, E(202)],
    ['mount-unknown-digest', (rng) => `mount=${someDigest(rng)}&from=${REPO}`, E(202)],
    ['mount-from-unknown-repo', () => `mount=${c.layer.digest}&from=robust/nonexistent`, E(202)],
    ['mount-from-repo-without-blob', () => `mount=${c.otherBlob.digest}&from=${REPO}`, E(202)],
    ['mount-empty', () => `mount=&from=${REPO}`, X4],
    ['from-empty', () => `mount=${c.layer.digest}&from=`, E(400, 'NAME_INVALID')],
    ['from-only', () => `from=${REPO}`, E(202)],
    ['mount-invalid-from-invalid', () => 'mount=md5:x&from=BAD', X4],
    ['mount-twice', () => `mount=${c.layer.digest}&mount=bad&from=${REPO}`, ANY],
    ['from-twice', () => `mount=${c.layer.digest}&from=${REPO}&from=BAD`, ANY],
    ['mount-and-digest', (rng) => `mount=${c.layer.digest}&from=${REPO}&digest=${someDigest(rng)}`, ANY],
    ['mount-from-self', () => `mount=${c.layer.digest}&from=${REPO}`, E(201)],
  ];
  for (const [label, q, expect] of mounts) {
    add(`mount/${label}`, async (rng, h) => {
      const target = label.includes('self') ? REPO : OTHER;
      await h.req({ method: 'POST', path: `/v2/${target}/blobs/uploads/?${q(rng)}` }, expect);
    });
  }

  // --- Headers ---------------------------------------------------------------------------------
  const contentRanges: [string, 'ok' | 'reject' | 'either', number?][] = [
    ['abc', 'reject'],
    ['5-2', 'reject'],
    ['0-999999999999999999999', 'reject'],
    ['bytes=0-1', 'reject'],
    ['0-', 'reject'],
    ['-4', 'reject'],
    ['0-4-5', 'reject'],
    ['0--4', 'reject'],
    ['0x0-0x4', 'reject'],
    ['0-3', 'reject'],
    ['0-5', 'reject'],
    ['-0-4', 'reject'],
    ['1-5', 'reject', 416],
    ['4294967296-4294967300', 'reject', 416],
    [`0-${'9'.repeat(8000)}`, 'reject'],
    ['0-4, 5-9', 'reject'],
    ['\xff\xfe', 'reject'],
    ['0-4', 'ok'],
    ['0-4/5', 'either'],
    ['0-4/*', 'either'],
    ['bytes 0-4/5', 'either'],
    ['bytes=0-4', 'either'],
    ['00-04', 'either'],
  ];
  for (const [cr, kind, status] of contentRanges) {
    add(`header/content-range ${printable(cr).slice(0, 30)}`, async (_rng, h) => {
      const loc = await startSession(h);
      if (!loc) return;
      const expect = kind === 'ok' ? E(202) : kind === 'reject' ? (status ? E(status, 'BLOB_UPLOAD_INVALID') : X4) : E([202, 400, 416]);
      const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': cr, 'content-type': 'application/octet-stream' }, body: 'hello' }, expect);
      if (!res) return;
      if (res.status === 416) h.check(headerValue(res, 'range') === '0-0', '416 without the current Range', `PATCH Content-Range ${printable(cr).slice(0, 40)} -> 416 Range ${headerValue(res, 'range')}`);
      await expectRange(h, loc, res.status === 202 ? '0-4' : '0-0', `after PATCH with Content-Range ${printable(cr).slice(0, 40)} -> ${res.status}`);
    });
  }
  const ranges: string[] = [
    'bytes=abc',
    'bytes=5-2',
    'bytes=999999999-',
    'bytes=-',
    'items=0-1',
    'bytes=0-1,3-4',
    'bytes=0-99999999999999999999',
    'bytes=-0',
    'bytes=-99999999',
    'bytes= 0-1',
    'bytes=0-0',
    'bytes=1-',
    'bytes=4095-4095',
    'bytes=4096-',
    'bytes=-1',
    `bytes=${'1'.repeat(8000)}-`,
    'bytes=\xff-\xfe',
    '',
    'bytes=0-1\tbytes=2-3',
  ];
  for (const r of ranges) {
    add(`header/range ${printable(r).slice(0, 30)}`, async (rng, h) => {
      const method = rng.chance(0.8) ? 'GET' : 'HEAD';
      const res = await h.req({ method, path: c.signedPath, headers: { range: r } }, E([200, 206, 416]));
      if (!res || method === 'HEAD') return;
      const full = c.layer.bytes;
      if (res.status === 200) h.check(res.body.equals(full), 'signed URL returned wrong bytes', `Range ${printable(r)} -> 200 with ${res.body.length} bytes`);
      if (res.status === 206) {
        const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headerValue(res, 'content-range') ?? '');
        const ok = cr !== null && res.body.equals(full.subarray(Number(cr[1]), Number(cr[2]) + 1));
        h.check(ok, 'signed URL 206 with wrong Content-Range or bytes', `Range ${printable(r)} -> 206 Content-Range ${headerValue(res, 'content-range')} body ${res.body.length} bytes`);
      }
    });
  }
  add('header/signed-url-tampered', async (rng, h) => {
    const p = c.signedPath;
    // Flip one character of the last 20 (the signature lives at the end of the URL).
    const i = p.length - 1 - rng.int(Math.min(20, p.length - 10));
    const ch = p[i] === 'A' ? 'B' : 'A';
    await h.req({ method: 'GET', path: p.slice(0, i) + ch + p.slice(i + 1) }, E(403, 'DENIED'));
  });
  add('header/signed-url-truncated', async (rng, h) => {
    await h.req({ method: 'GET', path: c.signedPath.slice(0, c.signedPath.length - rng.range(1, 10)) }, X4);
  });
  add('header/signed-url-garbage', async (rng, h) => {
    await h.req({ method: 'GET', path: `/_blobs/${rng.bytes(20).toString('base64url')}?${rng.bytes(10).toString('hex')}` }, X4);
  });
  add('header/huge-junk-header', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { 'x-junk': 'j'.repeat(12_000) } }, E(200));
  });
  add('header/huge-user-agent', async (_rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/good`, headers: { 'user-agent': 'u'.repeat(12_000) } }, E(200));
  });
  add('header/huge-authorization', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { authorization: `Bearer ${'t'.repeat(10_000)}` } }, E([200, 401]));
  });
  add('header/garbage-authorization', async (rng, h) => {
    const v = rng.pick(['Basic', 'Basic !!!', 'Basic ' + Buffer.from('\xff:\xff', 'latin1').toString('base64'), 'Bearer', 'Digest x', '\xff\xfe', 'Basic ' + 'A'.repeat(9000)]);
    await h.req({ method: 'GET', path: `/v2/${REPO}/tags/list`, headers: { authorization: v } }, E([200, 400, 401]));
  });
  add('header/many-headers', async (rng, h) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 150; i++) headers[`x-h-${i}`] = rng.bytes(20).toString('hex');
    await h.req({ method: 'GET', path: '/v2/', headers }, E(200));
  });
  add('header/huge-cookie', async (_rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${c.layer.digest}`, headers: { cookie: `a=${'c'.repeat(12_000)}` } }, E(307));
  });
  const accepts: [string | string[], Expect][] = [
    [';;;,,,', E([200, 404])],
    ['application/json;q=abc', E([200, 404])],
    ['*/*;q=0', E([200, 404])],
    [',', E([200, 404])],
    ['a'.repeat(10_000), E([200, 404])],
    ['\xff\xfe', E([200, 404])],
    ['APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON', E([200, 404])],
    [`${'text/plain, '.repeat(500)}*/*`, E(200)],
    ['text/html', E(404, 'MANIFEST_UNKNOWN')],
    ['application/json', E(404, 'MANIFEST_UNKNOWN')],
    [DOCKER_MANIFEST, E(404, 'MANIFEST_UNKNOWN')],
    ['application/*', E(200)],
    [OCI_MANIFEST, E(200)],
    [`${OCI_MANIFEST};q=0.5`, E(200)],
    [['text/html', OCI_MANIFEST], E(200)],
    [`${DOCKER_MANIFEST}, ${OCI_INDEX}, */*`, E(200)],
  ];
  for (const [accept, expect] of accepts) {
    add(`header/accept ${printable(String(accept)).slice(0, 90)}`, async (rng, h) => {
      const byDigest = rng.chance(0.5);
      const res = await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/${byDigest ? m.digest : 'good'}`, headers: { accept } }, expect);
      if (res?.status === 200) h.check(res.body.equals(m.bytes), 'manifest GET returned different bytes', `Accept ${printable(String(accept)).slice(0, 60)}`);
    });
  }
  const contentTypes: [string, 'reject' | 'either'][] = [
    [';;;', 'reject'],
    ['text/plain', 'reject'],
    // A generic application/json defers to the body's mediaType, as in CNCF distribution.
    ['application/json', 'either'],
    ['application/octet-stream', 'reject'],
    [OCI_INDEX, 'reject'],
    [DOCKER_LIST, 'reject'],
    [DOCKER_MANIFEST, 'reject'],
    ['application/vnd.docker.distribution.manifest.v1+json', 'reject'],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', 'reject'],
    ['application/vnd.oci.artifact.manifest.v1+json', 'reject'],
    [OCI_CONFIG, 'reject'],
    ['c'.repeat(10_000), 'reject'],
    ['\xff\xfe', 'reject'],
    [`${OCI_MANIFEST}; charset=utf-8`, 'either'],
    [OCI_MANIFEST.toUpperCase(), 'either'],
    [` ${OCI_MANIFEST} `, 'either'],
    [`${OCI_MANIFEST}, ${OCI_INDEX}`, 'either'],
  ];
  let tagCounter = 0;
  const badTag = (): string => `bad-${SEED % 10000}-${++tagCounter}`;
  const looseTag = (): string => `loose-${++tagCounter}`;
  for (const [ct, kind] of contentTypes) {
    add(`header/content-type ${printable(ct).slice(0, 90)}`, async (_rng, h) => {
      const tag = kind === 'reject' ? badTag() : looseTag();
      const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers: { 'content-type': ct }, body: m.bytes }, kind === 'reject' ? E(400, 'MANIFEST_INVALID') : E([201, 400]));
      if (res && res.status < 300) acceptedBadTags.add(tag);
      if (res && res.status >= 400) await expectTagAbsent(h, MF, tag, `PUT with Content-Type ${printable(ct).slice(0, 40)}`);
    });
  }
  add('header/expect-garbage', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { expect: 'garbage' } }, ANY);
  });
  add('header/expect-100-continue', async (_rng, h) => {
    const tag = looseTag();
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers: { 'content-type': OCI_MANIFEST, expect: '100-continue' }, body: m.bytes }, E(201));
  });
  add('header/host-garbage', async (rng, h) => {
    const host = rng.pick(['', 'evil.example:1', 'a'.repeat(1000), '[::1', '\xff', 'a b']);
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${c.layer.digest}`, headers: { host } }, E([307, 400]));
  });
  add('header/forwarded-garbage', async (rng, h) => {
    const headers = rng.pick<Record<string, string>>([{ 'x-forwarded-proto': 'javascript' }, { 'x-forwarded-host': '\xff' }, { forwarded: 'for=;;;' }, { 'x-forwarded-for': 'x'.repeat(5000) }, { 'x-forwarded-proto': 'https, http' }]);
    await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/`, headers }, E(202));
  });
  add('header/content-encoding-gzip-lie', async (_rng, h) => {
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${looseTag()}`, headers: { 'content-type': OCI_MANIFEST, 'content-encoding': 'gzip' }, body: m.bytes }, E([201, 400, 415]));
  });
  add('header/body-on-get', async (rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/good`, body: rng.bytes(1000) }, E(200));
  });

  // --- Wrong methods and unknown routes ------------------------------------------------------------
  const routes: [string, string[], (rng: Rng) => string][] = [
    ['/v2/', ['GET', 'HEAD'], () => '/v2/'],
    ['/v2', ['GET', 'HEAD'], () => '/v2'],
    ['catalog', ['GET', 'HEAD'], () => '/v2/_catalog'],
    ['tags', ['GET', 'HEAD'], () => `/v2/${REPO}/tags/list`],
    ['manifest', ['GET', 'HEAD', 'PUT', 'DELETE'], () => `/v2/${REPO}/manifests/good`],
    ['blob', ['GET', 'HEAD', 'DELETE'], () => `/v2/${REPO}/blobs/${c.layer.digest}`],
    ['uploads', ['POST', 'HEAD'], () => `/v2/${REPO}/blobs/uploads/`],
    ['upload-session', ['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'], (rng) => `/v2/${REPO}/blobs/uploads/${uuidOf(rng)}`],
    ['referrers', ['GET', 'HEAD'], () => `/v2/${REPO}/referrers/${m.digest}`],
    ['signed-blob', ['GET', 'HEAD'], () => c.signedPath],
  ];
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'LOCK', 'SEARCH', 'PURGE'];
  for (const [label, allowed, path] of routes) {
    for (const method of methods) {
      if (allowed.includes(method)) continue;
      add(`method/${method} ${label}`, async (rng, h) => {
        await h.req({ method, path: path(rng), body: rng.chance(0.3) ? rng.bytes(100) : undefined }, { ...E(405, 'UNSUPPORTED'), notAllowed: method });
      });
    }
    add(`method/OPTIONS ${label}`, async (rng, h) => {
      await h.req({ method: 'OPTIONS', path: path(rng) }, E([200, 204, 405]));
    });
  }
  const unknownRoutes: [string, Expect][] = [
    ['/', E(404, 'NOT_FOUND')],
    ['/v1/', E(404, 'NOT_FOUND')],
    ['/v3/', E(404, 'NOT_FOUND')],
    ['/V2/', E(404, 'NOT_FOUND')],
    ['/favicon.ico', E(404, 'NOT_FOUND')],
    ['/robots.txt', E(404, 'NOT_FOUND')],
    ['/api/v2/', E(404, 'NOT_FOUND')],
    [`/v2/${REPO}/unknown/thing`, E(404, 'NOT_FOUND')],
    [`/v2/${REPO}/manifests`, E(404, 'NOT_FOUND')],
    [`/v2/${REPO}/blobs`, E(404, 'NOT_FOUND')],
    [`/v2/${REPO}/tags/list/extra`, X4],
    [`/v2/${REPO}/blobs/uploads/a/b`, X4],
    ['/v2/_catalog/extra', X4],
    ['//v2/', X4],
    ['/v2//', X4],
    ['/v2/.', X4],
    ['/%76%32/', ANY],
    ['/_blobs/', X4],
    ['/_blobs', X4],
    ['/_blobs/../v2/', X4],
    ['/v2/%2e%2e/%2e%2e/etc/passwd', X4],
    [`/${'x'.repeat(8000)}`, E(404, 'NOT_FOUND')],
  ];
  for (const [path, expect] of unknownRoutes) {
    add(`route/${printable(path).slice(0, 40)}`, async (rng, h) => {
      await h.req({ method: rng.pick(['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE']), path }, expect);
    });
  }

  // --- Upload flows in bad orders ------------------------------------------------------------------
  add('upload/put-before-patch', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 5000));
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`) }, E(400, 'DIGEST_INVALID'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, sha256(bytes), 'PUT without the content');
  });
  add('upload/put-without-digest', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'PUT', path: loc, body: 'abc' }, E(400, 'DIGEST_INVALID'));
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT without digest');
  });
  add('upload/patch-after-delete', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'DELETE', path: loc }, E(204));
    await h.req({ method: 'PATCH', path: loc, body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256('abc')}`), body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'DELETE', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT after DELETE');
  });
  add('upload/double-put', async (rng, h) => {
    const loc = await startSession(h, FUZZ);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 4000));
    const put = await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`), body: bytes }, E(201));
    if (put?.status === 201) h.check(headerValue(put, 'docker-content-digest') === sha256(bytes), 'PUT 201 without the right Docker-Content-Digest', `got ${headerValue(put, 'docker-content-digest')}`);
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(bytes)}`), body: bytes }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await h.req({ method: 'PATCH', path: loc, body: 'more' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    const head = await h.req({ method: 'HEAD', path: `/v2/${FUZZ}/blobs/${sha256(bytes)}` }, E(200));
    if (head?.status === 200) h.check(headerValue(head, 'content-length') === String(bytes.length), 'blob HEAD has the wrong size after a double PUT', `Content-Length ${headerValue(head, 'content-length')} != ${bytes.length}`);
  });
  add('upload/tampered-state', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const m2 = /_state=([^&]+)/.exec(loc);
    if (!m2?.[1]) {
      h.check(false, 'upload Location has no _state token', loc);
      return;
    }
    const token = m2[1];
    const i = rng.int(token.length);
    const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const method = rng.pick(['GET', 'PATCH', 'PUT', 'DELETE'] as const);
    const spec: RequestSpec = { method, path: loc.replace(token, flipped) };
    if (method === 'PATCH') spec.body = 'abc';
    if (method === 'PUT') Object.assign(spec, { path: withQuery(spec.path, `digest=${sha256('abc')}`), body: 'abc' });
    const res = await h.req(spec, E([400, 404], ['BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN']));
    if (res) h.check(res.status === 400, 'tampered _state not answered 400 BLOB_UPLOAD_INVALID (lead decision)', `${method} with a token flipped at ${i} -> ${res.status}`);
    await expectRange(h, loc, '0-0', `after ${method} with a tampered _state`);
    await expectBlobAbsent(h, REPO, sha256('abc'), 'PUT with tampered _state');
  });
  add('upload/state-variants', async (rng, h) => {
    const loc = await startSession(h);
    const other = await startSession(h);
    if (!loc || !other) return;
    const token = /_state=([^&]+)/.exec(loc)?.[1] ?? '';
    const otherToken = /_state=([^&]+)/.exec(other)?.[1] ?? '';
    const parts = token.split('.');
    const variant = rng.pick([
      loc.replace(token, token.slice(0, token.length - 5)),
      loc.replace(token, ''),
      loc.replace(`_state=${token}`, ''),
      loc.replace(token, otherToken),
      loc.replace(token, `${token}.x`),
      loc.replace(token, `${parts[0]}.99999999999.${parts[2] ?? ''}`),
      loc.replace(token, `${parts[0]}.1.${parts[2] ?? ''}`),
      loc.replace(token, '%ff%fe'),
      loc.replace(token, 'x'.repeat(8000)),
      `${loc}&_state=${otherToken}`,
      `${loc}&_state=garbage`,
    ]);
    await h.req({ method: 'PATCH', path: variant, body: 'abc' }, E([202, 400, 404]));
    await h.req({ method: 'GET', path: other }, E(204));
  });
  add('upload/location-of-repo-a-under-repo-b', async (rng, h) => {
    const loc = await startSession(h, REPO);
    if (!loc) return;
    const moved = loc.replace(`/v2/${REPO}/`, `/v2/${OTHER}/`);
    const method = rng.pick(['GET', 'PATCH', 'PUT', 'DELETE'] as const);
    const spec: RequestSpec = { method, path: moved };
    if (method === 'PATCH') spec.body = 'abc';
    if (method === 'PUT') Object.assign(spec, { path: withQuery(moved, `digest=${sha256('abc')}`), body: 'abc' });
    await h.req(spec, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectRange(h, loc, '0-0', `after ${method} of its Location under ${OTHER}`);
    await expectBlobAbsent(h, OTHER, sha256('abc'), 'PUT of a foreign Location');
  });
  add('upload/location-of-repo-a-under-repo-b-without-state', async (rng, h) => {
    const loc = await startSession(h, REPO);
    if (!loc) return;
    const moved = loc.replace(`/v2/${REPO}/`, `/v2/${OTHER}/`).replace(/\?.*$/, '');
    await h.req({ method: rng.pick(['GET', 'DELETE']), path: moved }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectRange(h, loc, '0-0', 'after use of its bare Location under another repo');
  });
  add('upload/unknown-session', async (rng, h) => {
    const id = rng.pick([uuidOf(rng), 'not-a-uuid', '0'.repeat(36), '..', 'x'.repeat(3000)]);
    await h.req({ method: rng.pick(['GET', 'PATCH', 'PUT', 'DELETE']), path: `/v2/${REPO}/blobs/uploads/${id}`, body: 'abc' }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
  });
  add('upload/wrong-offset', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const ok = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': '0-2' }, body: 'abc' }, E(202));
    if (ok?.status === 202) h.check(headerValue(ok, 'range') === '0-2', 'PATCH reply Range wrong', `Range ${headerValue(ok, 'range')}`);
    const start = rng.pick([0, 1, 2, 4, 5, 1000]);
    const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `${start}-${start + 2}` }, body: 'def' }, E(416, 'BLOB_UPLOAD_INVALID'));
    if (res?.status === 416) h.check(headerValue(res, 'range') === '0-2', '416 without the current Range', `Range ${headerValue(res, 'range')}`);
    await expectRange(h, loc, '0-2', 'after a PATCH at a wrong offset');
  });
  add('upload/content-length-vs-range-mismatch', async (_rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': '0-9' }, body: 'hello' }, X4);
    await expectRange(h, loc, '0-0', 'after PATCH whose Content-Range announces more than the body');
  });
  add('upload/digest-mismatch', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const bytes = rng.bytes(rng.range(1, 5000));
    await h.req({ method: 'PATCH', path: loc, body: bytes }, E(202));
    const wrong = `sha256:${hex64(rng)}`;
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=${wrong}`) }, E(400, 'DIGEST_INVALID'));
    await h.req({ method: 'GET', path: loc }, E(404, 'BLOB_UPLOAD_UNKNOWN'));
    await expectBlobAbsent(h, REPO, wrong, 'PUT with a wrong digest');
    await expectBlobAbsent(h, REPO, sha256(bytes), 'PUT with a wrong digest (actual content)');
  });
  add('upload/concurrent-patches', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const sizes = Array.from({ length: rng.range(2, 5) }, () => rng.range(1, 20_000));
    const results = await Promise.all(sizes.map((n) => h.req({ method: 'PATCH', path: loc, body: rng.bytes(n) }, E([202, 416]))));
    const accepted = sizes.reduce((sum, n, i) => sum + (results[i]?.status === 202 ? n : 0), 0);
    await expectRange(h, loc, `0-${Math.max(accepted - 1, 0)}`, `after concurrent PATCHes of ${sizes.join(',')} (accepted ${accepted} bytes)`);
  });
  add('upload/recovers-after-rejections', async (rng, h) => {
    const loc = await startSession(h, FUZZ);
    if (!loc) return;
    const a = rng.bytes(rng.range(1, 3000));
    const b = rng.bytes(rng.range(1, 3000));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `0-${a.length - 1}` }, body: a }, E(202));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `0-${b.length - 1}` }, body: b }, E(416, 'BLOB_UPLOAD_INVALID'));
    await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': 'garbage' }, body: b }, X4);
    await h.req({ method: 'PUT', path: withQuery(loc, `digest=md5:${hex64(rng).slice(0, 32)}`) }, E(400, 'DIGEST_INVALID'));
    // The invalid digest must not have cancelled the session (it is malformed, not a mismatch).
    const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': `${a.length}-${a.length + b.length - 1}` }, body: b }, E(202));
    if (res?.status !== 202) return;
    const all = Buffer.concat([a, b]);
    const put = await h.req({ method: 'PUT', path: withQuery(loc, `digest=${sha256(all)}`) }, E(201));
    if (put?.status !== 201) return;
    const redirect = await h.req({ method: 'GET', path: `/v2/${FUZZ}/blobs/${sha256(all)}` }, E(307));
    if (redirect?.status !== 307) return;
    const got = await h.req({ method: 'GET', path: locationPath(c.base, headerValue(redirect, 'location')) }, E(200));
    if (got) h.check(got.body.equals(all), 'blob content corrupted by rejected chunks', `expected ${all.length} bytes ${sha256(all)}, got ${got.body.length} bytes ${sha256(got.body)}`);
  });
  add('upload/streamed-patch-then-bad-put', async (rng, h) => {
    const loc = await startSession(h);
    if (!loc) return;
    const chunks = Array.from({ length: rng.range(1, 5) }, () => rng.bytes(rng.range(1, 2000)));
    const body = (async function* () {
      for (const ch of chunks) yield ch;
    })();
    await h.req({ method: 'PATCH', path: loc, body }, E(202));
    const total = chunks.reduce((s, ch) => s + ch.length, 0);
    await expectRange(h, loc, `0-${total - 1}`, 'after a streamed PATCH');
    await h.req({ method: 'PUT', path: withQuery(loc, 'digest=sha256:') }, E(400, 'DIGEST_INVALID'));
  });

  // --- Manifests ---------------------------------------------------------------------------------
  const RAW = '__raw_json_token__';
  const encode = (value: unknown, raw?: string): Buffer => {
    const s = JSON.stringify(value);
    return Buffer.from(raw === undefined ? s : s.replace(`"${RAW}"`, raw));
  };
  const DELETE = Symbol('delete');
  const setPath = (root: unknown, path: (string | number)[], value: unknown): void => {
    let node = root as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (value === DELETE) delete node[last];
    else node[last] = value;
  };
  /** PUTs a manifest body expected to be rejected, then checks the tag did not appear. */
  const putRejected = async (h: Harness, body: RequestSpec['body'], expect: Expect, headers: Record<string, string> = { 'content-type': OCI_MANIFEST }, ref?: string): Promise<void> => {
    const tag = ref ?? badTag();
    const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers, body }, expect);
    if (res && res.status < 300) acceptedBadTags.add(tag);
    if (res && res.status >= 400 && !tag.includes(':')) await expectTagAbsent(h, MF, tag, 'rejected manifest PUT');
    if (res && res.status >= 400 && tag.includes(':')) {
      const get = await h.req({ method: 'GET', path: `/v2/${MF}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
      if (get) h.check(get.status === 404, 'rejected manifest PUT by digest left it visible', `GET ${tag} -> ${get.status}`);
    }
  };
  const putLoose = async (h: Harness, body: RequestSpec['body'], headers: Record<string, string> = { 'content-type': OCI_MANIFEST }, expect: Expect = ANY): Promise<void> => {
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${looseTag()}`, headers, body }, expect);
  };
  const INVALID = E(400, 'MANIFEST_INVALID');
  const INVALID_OR_DIGEST = E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']);
  const validText = m.bytes.toString();
  const badBodies: [string, () => Buffer | string][] = [
    ['not-json', () => 'not json'],
    ['open-brace', () => '{'],
    ['truncated', () => validText.slice(0, Math.floor(validText.length / 2))],
    ['truncated-by-one', () => validText.slice(0, -1)],
    ['trailing-comma', () => validText.replace(/}$/, ',}')],
    ['trailing-garbage', () => `${validText}x`],
    ['two-documents', () => `${validText}${validText}`],
    ['single-quotes', () => validText.replace(/"/g, "'")],
    ['comment', () => `/* c */${validText}`],
    ['NaN-token', () => validText.replace('"schemaVersion":2', '"schemaVersion":NaN')],
    ['raw-nul-outside-string', () => Buffer.concat([Buffer.from(validText.slice(0, 1)), Buffer.from([0]), Buffer.from(validText.slice(1))])],
    ['raw-nul-in-string', () => validText.replace(OCI_CONFIG, `${OCI_CONFIG}\x00`)],
    ['raw-newline-in-string', () => validText.replace(OCI_CONFIG, `${OCI_CONFIG}\n`)],
    ['all-nul', () => Buffer.alloc(1000)],
    ['binary', () => Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80])],
    ['utf16', () => Buffer.from(`\ufeff${validText}`, 'utf16le')],
    ['empty', () => ''],
    ['whitespace-only', () => '   \n\t  '],
    ['null', () => 'null'],
    ['array', () => '[]'],
    ['string', () => '"s"'],
    ['number', () => '2'],
    ['true', () => 'true'],
    ['empty-object', () => '{}'],
    ['deep-array-10k', () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
    ['deep-object-10k', () => `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`],
    ['deep-array-100k', () => `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['deep-unclosed-100k', () => '['.repeat(100_000)],
    ['schema1', () => JSON.stringify({ schemaVersion: 1, name: MF, tag: 'x', architecture: 'amd64', fsLayers: [], history: [] })],
  ];
  for (const [label, body] of badBodies) {
    add(`manifest/${label}`, async (_rng, h) => putRejected(h, body(), INVALID));
  }
  const deepValue = (depth: number): string => `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
  add('manifest/deep-annotation-10k', async (_rng, h) => {
    await putLoose(h, encode({ ...manifestObject(c), annotations: { a: RAW } }, deepValue(10_000)), undefined, E([201, 400]));
  });
  add('manifest/deep-unknown-field-100k', async (_rng, h) => {
    await putLoose(h, encode({ ...manifestObject(c), extra: RAW }, deepValue(100_000)), undefined, E([201, 400]));
  });
  add('manifest/deep-subject-10k', async (_rng, h) => {
    await putRejected(h, encode({ ...manifestObject(c), subject: RAW }, deepValue(10_000)), X4);
  });
  add('manifest/deep-layers-10k', async (_rng, h) => {
    await putRejected(h, encode({ ...manifestObject(c), layers: RAW }, `${'['.repeat(10_000)}${']'.repeat(10_000)}`), X4);
  });
  // Field substitutions: [path, replacement, strict (must be rejected)]
  const replacementValues: [string, unknown, string?][] = [
    ['null', null],
    ['true', true],
    ['zero', 0],
    ['minus-one', -1],
    ['float', 1.5],
    ['overflow', RAW, '1e400'],
    ['beyond-safe-int', RAW, '9007199254740993'],
    ['string', 's'],
    ['empty-string', ''],
    ['array', []],
    ['object', {}],
    ['numeric-string', '123'],
    ['nul-string', '\u0000'],
    ['long-string', 'x'.repeat(1000)],
    ['lone-surrogate', RAW, '"\\ud800"'],
  ];
  const fieldPaths: [string, (string | number)[], (label: string) => 'strict' | 'loose'][] = [
    ['schemaVersion', ['schemaVersion'], () => 'strict'],
    ['mediaType', ['mediaType'], () => 'strict'],
    ['config', ['config'], () => 'strict'],
    ['config.mediaType', ['config', 'mediaType'], (l) => (['string', 'empty-string', 'numeric-string', 'nul-string', 'long-string', 'lone-surrogate'].includes(l) ? 'loose' : 'strict')],
    ['config.digest', ['config', 'digest'], () => 'strict'],
    ['config.size', ['config', 'size'], () => 'strict'],
    ['layers', ['layers'], (l) => (l === 'array' ? 'loose' : 'strict')],
    ['layers[0]', ['layers', 0], () => 'strict'],
    ['layers[0].mediaType', ['layers', 0, 'mediaType'], (l) => (['string', 'empty-string', 'numeric-string', 'nul-string', 'long-string', 'lone-surrogate'].includes(l) ? 'loose' : 'strict')],
    ['layers[0].digest', ['layers', 0, 'digest'], () => 'strict'],
    ['layers[0].size', ['layers', 0, 'size'], () => 'strict'],
    ['annotations', ['annotations'], () => 'loose'],
    ['layers[0].annotations', ['layers', 0, 'annotations'], () => 'loose'],
    ['layers[0].urls', ['layers', 0, 'urls'], () => 'loose'],
    ['subject', ['subject'], () => 'strict'],
    ['artifactType', ['artifactType'], (l) => (['string', 'numeric-string', 'long-string', 'nul-string', 'lone-surrogate', 'empty-string'].includes(l) ? 'loose' : 'strict')],
  ];
  for (const [pathLabel, path, strictness] of fieldPaths) {
    add(`manifest/field ${pathLabel}`, async (rng, h) => {
      const [label, value, raw] = rng.pick(replacementValues);
      const obj = manifestObject(c);
      setPath(obj, path, value);
      const body = encode(obj, raw);
      if (strictness(label) === 'strict') {
        const expect = pathLabel.endsWith('digest') ? INVALID_OR_DIGEST : pathLabel === 'subject' ? E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']) : E(400, 'MANIFEST_INVALID');
        await putRejected(h, body, expect);
      } else {
        await putLoose(h, body);
      }
    });
  }
  const requiredFields: [string, (string | number)[]][] = [
    ['schemaVersion', ['schemaVersion']],
    ['config', ['config']],
    ['layers', ['layers']],
    ['config.digest', ['config', 'digest']],
    ['config.size', ['config', 'size']],
    ['config.mediaType', ['config', 'mediaType']],
    ['layers[0].digest', ['layers', 0, 'digest']],
    ['layers[0].size', ['layers', 0, 'size']],
    ['layers[0].mediaType', ['layers', 0, 'mediaType']],
  ];
  for (const [label, path] of requiredFields) {
    add(`manifest/missing ${label}`, async (_rng, h) => {
      const obj = manifestObject(c);
      setPath(obj, path, DELETE);
      await putRejected(h, encode(obj), label.endsWith('digest') ? INVALID_OR_DIGEST : X4);
    });
  }
  add('manifest/size-mismatch', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0, 'size'], c.layer.size + rng.pick([1, -1, 1000]));
    await putRejected(h, encode(obj), INVALID);
  });
  add('manifest/unknown-layer', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0, 'digest'], someDigest(rng));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/unknown-config', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['config', 'digest'], someDigest(rng));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/layer-only-in-other-repo', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0], { mediaType: OCI_LAYER, digest: c.otherBlob.digest, size: c.otherBlob.size });
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/5000-unknown-layers', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers'], Array.from({ length: 5000 }, () => ({ mediaType: OCI_LAYER, digest: someDigest(rng), size: 10 })));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/5000-known-layers', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers'], Array.from({ length: 5000 }, () => ({ mediaType: OCI_LAYER, digest: c.layer.digest, size: c.layer.size })));
    await putLoose(h, encode(obj), undefined, E([201, 400]));
  });
  add('manifest/mediatype-mismatch-index-ct', async (_rng, h) => putRejected(h, m.bytes, INVALID, { 'content-type': OCI_INDEX }));
  add('manifest/mediatype-mismatch-docker-ct', async (_rng, h) => putRejected(h, m.bytes, INVALID, { 'content-type': DOCKER_MANIFEST }));
  add('manifest/mediatype-mismatch-body', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], DOCKER_MANIFEST);
    await putRejected(h, encode(obj), INVALID);
  });
  add('manifest/no-content-type-no-mediatype', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], DELETE);
    await putRejected(h, encode(obj), INVALID, {});
  });
  add('manifest/no-content-type-unknown-mediatype', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], 'application/x-foo');
    await putRejected(h, encode(obj), INVALID, {});
  });
  add('manifest/no-content-type-with-mediatype (control)', async (_rng, h) => {
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-noct`, body: m.bytes }, E(201));
  });
  add('manifest/unknown-content-types', async (rng, h) => {
    const ct = rng.pick(['application/x-foo', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.container.image.v1+json', '*/*', 'application/*']);
    await putRejected(h, m.bytes, INVALID, { 'content-type': ct });
  });
  add('manifest/index-children-missing', async (rng, h) => {
    const n = rng.range(1, 20);
    const body = encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array.from({ length: n }, () => ({ mediaType: OCI_MANIFEST, digest: someDigest(rng), size: 500, platform: { os: 'linux', architecture: 'amd64' } })) });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_INDEX });
  });
  add('manifest/index-child-is-a-blob', async (_rng, h) => {
    const body = encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: c.layer.digest, size: c.layer.size }] });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_INDEX });
  });
  add('manifest/docker-list-children-missing', async (rng, h) => {
    const body = encode({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: someDigest(rng), size: 500, platform: { os: 'linux', architecture: 'amd64' } }] });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': DOCKER_LIST });
  });
  const indexShapes: [string, unknown][] = [
    ['manifests-object', {}],
    ['manifests-null', null],
    ['manifests-string', 's'],
    ['manifests-of-null', [null]],
    ['manifests-of-strings', ['sha256:x']],
    ['child-missing-digest', [{ mediaType: OCI_MANIFEST, size: 10 }]],
    ['child-missing-size', [{ mediaType: OCI_MANIFEST, digest: `sha256:${'0'.repeat(64)}` }]],
    ['child-bad-digest', [{ mediaType: OCI_MANIFEST, digest: 'sha256:zz', size: 10 }]],
    ['child-negative-size', [{ mediaType: OCI_MANIFEST, digest: `sha256:${'0'.repeat(64)}`, size: -5 }]],
  ];
  for (const [label, manifests] of indexShapes) {
    add(`manifest/index ${label}`, async (_rng, h) => {
      await putRejected(h, encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), INVALID_OR_DIGEST, { 'content-type': OCI_INDEX });
    });
  }
  add('manifest/index-missing-manifests', async (_rng, h) => {
    await putRejected(h, encode({ schemaVersion: 2, mediaType: OCI_INDEX }), INVALID, { 'content-type': OCI_INDEX });
  });
  add('manifest/over-4MiB-by-one', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    const baseLen = encode(obj).length;
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST + 1 - baseLen);
    const body = encode(obj);
    h.check(body.length === MAX_MANIFEST + 1, 'test bug', `body is ${body.length} bytes`);
    await putRejected(h, body, E(413, 'MANIFEST_INVALID'));
  });
  add('manifest/over-4MiB-chunked', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST + 1 - encode(obj).length);
    const body = encode(obj);
    const stream = (async function* () {
      for (let i = 0; i < body.length; i += 256 * 1024) yield body.subarray(i, i + 256 * 1024);
    })();
    await putRejected(h, stream, E(413, 'MANIFEST_INVALID'));
  });
  add('manifest/20MiB-garbage', async (rng, h) => {
    const chunk = rng.bytes(1024 * 1024);
    const stream = (async function* () {
      for (let i = 0; i < 20; i++) yield chunk;
    })();
    await putRejected(h, stream, E(413, 'MANIFEST_INVALID'), { 'content-type': OCI_MANIFEST, 'content-length': String(20 * 1024 * 1024) });
  });
  add('manifest/exactly-4MiB (control)', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST - encode(obj).length);
    const body = encode(obj);
    const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-4mib`, headers: { 'content-type': OCI_MANIFEST }, body }, E(201));
    if (res?.status === 201) {
      const got = await h.req({ method: 'GET', path: `/v2/${MF}/manifests/ok-4mib` }, E(200));
      if (got) h.check(got.body.equals(body), 'manifest not stored byte-exact', `4 MiB manifest came back as ${got.body.length} bytes`);
    }
  });
  add('manifest/put-by-wrong-digest', async (rng, h) => {
    await putRejected(h, m.bytes, E(400, 'DIGEST_INVALID'), { 'content-type': OCI_MANIFEST }, rng.chance(0.5) ? someDigest(rng) : sha256(`${validText} `));
  });
  add('manifest/put-by-digest-other-repo-content', async (_rng, h) => {
    // A manifest body whose blobs live only in OTHER, PUT by its own (correct) digest in MF.
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0], { mediaType: OCI_LAYER, digest: c.otherBlob.digest, size: c.otherBlob.size });
    const body = encode(obj);
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_MANIFEST }, sha256(body));
  });
  add('manifest/bad-subject', async (rng, h) => {
    const subject = rng.pick(['x', { digest: 'sha256:zz', mediaType: OCI_MANIFEST, size: 1 }, { mediaType: OCI_MANIFEST }, [], { digest: someDigest(rng), mediaType: OCI_MANIFEST, size: 'big' }]);
    await putRejected(h, encode({ ...manifestObject(c), subject }), E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']));
  });
  add('manifest/unknown-subject (control)', async (rng, h) => {
    const subject = someDigest(rng);
    const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-subject`, headers: { 'content-type': OCI_MANIFEST }, body: encode({ ...manifestObject(c), subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 } }) }, E(201));
    if (res?.status === 201) h.check(headerValue(res, 'oci-subject') === subject, 'manifest with subject: OCI-Subject header missing or wrong', `OCI-Subject ${headerValue(res, 'oci-subject')} != ${subject}`);
  });
  add('manifest/bom', async (_rng, h) => putLoose(h, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), m.bytes]), undefined, E([201, 400])));
  add('manifest/leading-whitespace', async (_rng, h) => putLoose(h, `  \n${validText}`, undefined, E([201, 400])));
  add('manifest/duplicate-keys', async (rng, h) => {
    const dup = rng.pick([
      validText.replace('"schemaVersion":2', '"schemaVersion":1,"schemaVersion":2'),
      validText.replace('"schemaVersion":2', '"schemaVersion":2,"schemaVersion":1'),
      validText.replace(`"mediaType":"${OCI_MANIFEST}"`, `"mediaType":"${OCI_MANIFEST}","mediaType":"${OCI_INDEX}"`),
      validText.replace(`"digest":"${c.layer.digest}"`, `"digest":"${c.layer.digest}","digest":"sha256:${'0'.repeat(64)}"`),
    ]);
    await putLoose(h, dup, undefined, E([201, 400, 404]));
  });
  add('manifest/escaped-nul-annotation', async (_rng, h) => putLoose(h, encode({ ...manifestObject(c), annotations: { a: '\u0000\u0001' } }), undefined, E([201, 400])));
  add('manifest/invalid-utf8-in-string', async (_rng, h) => {
    const body = Buffer.concat([Buffer.from(validText.slice(0, -1)), Buffer.from(',"annotations":{"a":"'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('"}}')]);
    await putLoose(h, body, undefined, E([201, 400]));
  });
  add('manifest/random-byte-mutation', async (rng, h) => {
    const bytes = Buffer.from(m.bytes);
    const n = rng.range(1, 5);
    let out = bytes;
    for (let i = 0; i < n; i++) {
      const pos = rng.int(out.length);
      const op = rng.int(3);
      if (op === 0) out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1)]);
      else if (op === 1) out = Buffer.concat([out.subarray(0, pos), rng.bytes(1), out.subarray(pos)]);
      else {
        out = Buffer.from(out);
        out[pos] = rng.int(256);
      }
    }
    await putLoose(h, out);
  });

  // --- Generic path/header fuzzing on a separate repository ---------------------------------------------
  add('fuzz/mutated-request', async (rng, h) => {
    const templates: RequestSpec[] = [
      { method: 'GET', path: '/v2/' },
      { method: 'GET', path: '/v2/_catalog?n=5' },
      { method: 'GET', path: `/v2/${FUZZ}/tags/list?n=2&last=a` },
      { method: 'GET', path: `/v2/${FUZZ}/manifests/good` },
      { method: 'HEAD', path: `/v2/${FUZZ}/manifests/${m.digest}` },
      { method: 'GET', path: `/v2/${FUZZ}/blobs/${c.layer.digest}` },
      { method: 'HEAD', path: `/v2/${FUZZ}/blobs/${c.config.digest}` },
      { method: 'POST', path: `/v2/${FUZZ}/blobs/uploads/` },
      { method: 'POST', path: `/v2/${FUZZ}/blobs/uploads/?mount=${c.layer.digest}&from=${REPO}` },
      { method: 'GET', path: `/v2/${FUZZ}/referrers/${m.digest}?artifactType=x` },
      { method: 'PUT', path: `/v2/${FUZZ}/manifests/fz`, headers: { 'content-type': OCI_MANIFEST }, body: m.bytes },
      { method: 'GET', path: c.signedPath },
    ];
    const t = rng.pick(templates);
    const chars = ['/', '%', '%00', '%2F', '%2e', '%ff', '?', '#', '&', '=', ';', ':', '@', '.', '..', '-', '_', 'A', 'z', '9', '~', '\xff', '\x80', '\xc3\xa9', '\x7f', '[', ']', '{', '}', '|', '"', "'", '<', '>', '`', '^', '\\', '+', '*', '!', '$', ','];
    let path = t.path;
    for (let i = rng.range(1, 4); i > 0; i--) {
      const pos = rng.int(path.length + 1);
      const op = rng.int(4);
      if (op === 0) path = path.slice(0, pos) + rng.pick(chars) + path.slice(pos);
      else if (op === 1) path = path.slice(0, pos) + path.slice(pos + 1);
      else if (op === 2) path = path.slice(0, pos) + rng.pick(chars).repeat(rng.range(2, 300)) + path.slice(pos);
      else {
        const segs = path.split('/');
        const j = rng.int(segs.length);
        segs[j] = rng.pick(['', '.', '..', 'x'.repeat(rng.range(1, 400)), '%2F', 'blobs', 'manifests', 'uploads', 'tags', 'list', '_catalog']);
        path = segs.join('/');
      }
    }
    if (!path.startsWith('/')) path = `/${path}`;
    const method = rng.chance(0.25) ? rng.pick(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) : t.method;
    const headers: Record<string, string> = { ...(t.headers as Record<string, string> | undefined) };
    if (rng.chance(0.3)) {
      const [k, vals] = rng.pick([
        ['range', ['bytes=0-1', 'bytes=x', 'bytes=5-1', 'bytes=0-', '']],
        ['content-range', ['0-1', 'abc', '5-2', 'bytes=0-1']],
        ['accept', ['*/*', ';;', OCI_INDEX, 'x'.repeat(3000)]],
        ['content-type', [OCI_MANIFEST, OCI_INDEX, ';;', '\xff']],
        ['authorization', ['Bearer x', 'Basic ???']],
      ] as const);
      headers[k] = rng.pick(vals);
    }
    const body = method === 'PUT' || method === 'PATCH' || method === 'POST' ? (t.body && rng.chance(0.5) ? t.body : rng.bytes(rng.int(2000))) : undefined;
    await h.req({ method, path, headers, body }, ANY);
  });

  const names = new Set<string>();
  for (const x of v) {
    if (names.has(x.name)) throw new Error(`duplicate variant name ${x.name}`);
    names.add(x.name);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Raw sockets

interface RawResult {
  data: Buffer;
  closed: boolean;
  firstByteMs?: number;
  closeMs?: number;
  error?: string;
}

/**
 * Writes `parts` to a fresh TCP connection and collects what comes back until the server closes the
 * connection or `waitMs` passes. `after`: 'half' ends our side, 'destroy' resets it, 'keep' does neither.
 */
function raw(port: number, parts: (Buffer | string)[], after: 'half' | 'destroy' | 'keep', waitMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const result: RawResult = { data: Buffer.alloc(0), closed: false };
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      result.data = Buffer.concat(chunks);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d: Buffer) => {
      result.firstByteMs ??= performance.now() - started;
      chunks.push(d);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      result.error = e.code ?? e.message;
    });
    socket.on('close', () => {
      result.closed = true;
      result.closeMs = performance.now() - started;
      finish();
    });
    socket.on('connect', () => {
      for (const p of parts) socket.write(p);
      if (after === 'half') socket.end();
      if (after === 'destroy') setTimeout(() => socket.destroy(), 50);
    });
  });
}

const statusLines = (data: Buffer): number[] => [...data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

/** Captures the ClientHello that node's TLS client sends (what skopeo/podman/docker send to probe). */
async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'registry.local', rejectUnauthorized: false });
      client.on('error', () => undefined);
      setTimeout(() => {
        client.destroy();
        reject(new Error('no ClientHello captured'));
      }, 3000).unref();
    });
  });
}

// ---------------------------------------------------------------------------------------------------

describe('bad input against one running registry', { timeout: 120_000 }, () => {
  let reg: RunningRegistry;
  let base: URL;
  let ctx: Ctx;
  let stderr = '';
  const stats = new Stats();
  const rawFailures: string[] = [];

  before(async () => {
    reg = await startRegistry();
    reg.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    base = new URL(reg.url);
    ctx = await setup(base);
  });

  after(async () => {
    if (stderr.trim()) console.log(`registry stderr:\n${stderr.slice(0, 5000)}`);
    await reg?.stop();
  });

  test('thousands of generated bad HTTP requests', { timeout: 90_000 }, async () => {
    const variants = buildVariants(ctx);
    const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
    const started = performance.now();
    let next = ONLY_CASE ?? 0;
    const runCase = async (i: number): Promise<void> => {
      const rng = prng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) | 0);
      const variant = i < variants.length ? (variants[i] as Variant) : rng.pick(variants);
      stats.casesRun.set(variant.name, (stats.casesRun.get(variant.name) ?? 0) + 1);
      const h = harness(stats, base, agent, `case #${i} [${variant.name}] seed=${SEED}`, variant.name);
      try {
        await variant.run(rng, h);
      } catch (e) {
        stats.fail('test bug (exception in case)', `${h.label}: ${(e as Error).stack ?? String(e)}`);
      }
    };
    const worker = async (): Promise<void> => {
      while (stats.requests < TARGET_REQUESTS && performance.now() - started < BUDGET_MS) {
        const i = next++;
        await runCase(i);
        if (ONLY_CASE !== undefined) return;
      }
    };
    try {
      await Promise.all(Array.from({ length: ONLY_CASE !== undefined ? 1 : WORKERS }, worker));
    } finally {
      agent.destroy();
    }
    const seconds = (performance.now() - started) / 1000;
    const hist = [...stats.histogram.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
    console.log(`seed ${SEED}: ${stats.requests} requests in ${next - (ONLY_CASE ?? 0)} cases (${variants.length} variants) in ${seconds.toFixed(1)} s`);
    console.log(`status histogram: ${hist.join(', ')}`);
    const notRun = variants.filter((v) => !stats.casesRun.has(v.name)).map((v) => v.name);
    if (notRun.length && ONLY_CASE === undefined) console.log(`variants not reached: ${notRun.length}`);
    if (process.env.ROBUST_VERBOSE) {
      for (const [name, m] of [...stats.perVariant].sort(([a], [b]) => a.localeCompare(b))) {
        console.log(`  ${printable(name)}: ${[...m].map(([k, n]) => `${k} x${n}`).join(', ')}`);
      }
    }
    if (stats.failures.length) console.log(report(stats, stats.failures, 15));
    if (ONLY_CASE === undefined) assert.ok(stats.requests >= MIN_REQUESTS, `only ${stats.requests} requests were sent in the budget (need ${MIN_REQUESTS})`);
  });

  test('no 5xx responses', () => {
    const f = stats.byKind((k) => k === '5xx response');
    assert.equal(f.length, 0, report(stats, f));
  });

  test('no connection resets, hangs or client-side test bugs', () => {
    const f = stats.byKind((k) => k.startsWith('connection error') || k.startsWith('hang') || k.startsWith('test bug'));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every non-HEAD error response carries an OCI JSON error body', () => {
    const f = stats.byKind((k) => k.startsWith('error response') || k === 'unknown OCI error code');
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every response carries Docker-Distribution-API-Version', () => {
    const f = stats.byKind((k) => k.startsWith('missing Docker-Distribution-API-Version'));
    assert.equal(f.length, 0, report(stats, f, 10));
  });

  test('statuses and codes follow the contract (behaviour.md)', () => {
    const f = stats.byKind((k) => k.startsWith('status differs') || k.startsWith('error code differs') || k.startsWith('405') || k.startsWith('tampered') || k.startsWith('416') || k.includes('Link') || k.startsWith('list page') || k.startsWith('n=0') || k.startsWith('manifest with subject') || k.startsWith('PUT 201') || k.startsWith('PATCH reply') || k.startsWith('success response') || k.startsWith('upload Location'));
    assert.equal(f.length, 0, report(stats, f, 25));
  });

  test('rejected requests leave no state behind and content stays intact', () => {
    const f = stats.byKind((k) => k.startsWith('rejected') || k.includes('corrupted') || k.includes('wrong bytes') || k.includes('different bytes') || k.includes('byte-exact') || k.includes('wrong size') || k.includes('206'));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('every failure kind is covered by an assertion above', () => {
    const known = /^(5xx|connection error|hang|test bug|error response|unknown OCI|missing Docker|status differs|error code differs|405|tampered|416|malformed Link|list page|n=0|manifest with subject|PUT 201|PATCH reply|success response|upload Location|rejected|blob content corrupted|signed URL|manifest GET returned|manifest not stored|blob HEAD has the wrong size)/;
    const f = stats.failures.filter((x) => !known.test(x.kind));
    assert.equal(f.length, 0, report(stats, f));
  });

  test('raw socket: TLS ClientHello on the plain-HTTP port is answered or closed within 1 s', async () => {
    const hello = await captureClientHello();
    assert.equal(hello[0], 0x16, 'captured bytes are a TLS handshake record');
    for (let i = 0; i < 5; i++) {
      const r = await raw(reg.port, [hello], 'keep', 3000);
      const ms = Math.min(r.firstByteMs ?? Infinity, r.closeMs ?? Infinity);
      assert.ok(ms <= 1000, `ClientHello #${i}: no answer and no close within 1 s (first byte ${r.firstByteMs} ms, close ${r.closeMs} ms)`);
      for (const s of statusLines(r.data)) assert.ok(s < 500, `ClientHello answered with ${s}`);
    }
    // And through a real TLS client, as Go's and containers/image's probes do.
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const outcome = await new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: reg.port, servername: 'localhost', rejectUnauthorized: false });
        const t = setTimeout(() => {
          s.destroy();
          resolve('timeout');
        }, 3000);
        s.on('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(t);
          resolve(`error ${e.code ?? e.message}`);
        });
        s.on('close', () => {
          clearTimeout(t);
          resolve('closed');
        });
        s.on('secureConnect', () => {
          clearTimeout(t);
          s.destroy();
          resolve('tls handshake succeeded?!');
        });
      });
      const ms = performance.now() - started;
      assert.ok(outcome !== 'timeout' && ms <= 1000, `TLS probe #${i}: ${outcome} after ${Math.round(ms)} ms`);
    }
  });

  test('raw socket: garbage bytes are answered (< 500) or closed, never crash the server', async () => {
    const rng = prng(SEED ^ 0x7a3);
    const cases: [string, (Buffer | string)[], 'half' | 'destroy' | 'keep', number][] = [
      ['random binary (control byte first)', [Buffer.concat([Buffer.from([0x01]), rng.bytes(1024)])], 'keep', 2000],
      ['random binary', [rng.bytes(4096)], 'half', 2000],
      ['ssh banner', ['SSH-2.0-OpenSSH_9.6\r\n'], 'keep', 2000],
      ['http/2 preface', ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], 'keep', 2000],
      ['bad Content-Length', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'], 'keep', 2000],
      ['two Content-Lengths', ['PATCH /v2/robust/base/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'], 'keep', 2000],
      ['Content-Length and chunked', ['POST /v2/robust/base/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 'keep', 2000],
      ['unknown transfer-encoding', ['POST /v2/robust/base/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxxxx'], 'keep', 2000],
      ['NUL in header', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'], 'keep', 2000],
      ['space in header name', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n'], 'keep', 2000],
      ['header over 16 KiB', [`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`], 'keep', 2000],
      ['20000 headers', [`GET /v2/ HTTP/1.1\r\nHost: x\r\n${'a: b\r\n'.repeat(20_000)}\r\n`], 'keep', 3000],
      ['control char in path', ['GET /v2/\x01/manifests/x HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
      ['space in path', ['GET /v2/a b/manifests/x HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
      ['raw utf-8 in path', [Buffer.from('GET /v2/résumé/manifests/ünïcødé HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')], 'keep', 2000],
      ['HTTP/9.9', ['GET /v2/ HTTP/9.9\r\nHost: x\r\n\r\n'], 'keep', 2000],
      ['HTTP/0.9 style', ['GET /v2/\r\n\r\n'], 'half', 2000],
      ['bare LF line endings', ['GET /v2/ HTTP/1.1\nHost: x\nConnection: close\n\n'], 'keep', 2000],
      ['obs-fold header', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n'], 'keep', 2000],
      ['absolute-form target', ['GET http://evil.example/v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 2000],
      ['asterisk target', ['OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 2000],
      ['CONNECT', ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'], 'keep', 2000],
      ['HTTP/1.0 without Host', ['GET /v2/ HTTP/1.0\r\n\r\n'], 'keep', 2000],
      ['HTTP/1.0 blob GET without Host', [`GET /v2/${REPO}/blobs/${ctx.layer.digest} HTTP/1.0\r\n\r\n`], 'keep', 2000],
      ['HTTP/1.0 upload POST without Host', [`POST /v2/${REPO}/blobs/uploads/ HTTP/1.0\r\nContent-Length: 0\r\n\r\n`], 'keep', 2000],
      ['HTTP/1.1 without Host', ['GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n'], 'keep', 2000],
      ['two Host headers', ['GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'], 'keep', 2000],
      ['unknown method', ['BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
      ['lowercase method', ['get /v2/ HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
      ['only CRLFs', ['\r\n\r\n\r\n\r\n'], 'half', 2000],
      ['truncated request line', ['GET /v2/ HTT'], 'half', 2000],
      ['truncated headers', ['GET /v2/ HTTP/1.1\r\nHost: x\r\n'], 'half', 2000],
      ['truncated then reset', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-'], 'destroy', 2000],
      ['huge chunk size', [`PATCH /v2/${REPO}/blobs/uploads/${randomUUID()} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc`], 'keep', 2000],
      ['Expect: 100-continue, no body', [`PUT /v2/${MF}/manifests/bad-expect HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n`], 'half', 2000],
    ];
    for (const [label, parts, mode, wait] of cases) {
      const r = await raw(reg.port, parts, mode, wait);
      const statuses = statusLines(r.data);
      const answered = statuses.length > 0;
      if (mode === 'keep' && !answered && !r.closed) rawFailures.push(`raw '${label}': neither answered nor closed within ${wait} ms`);
      for (const s of statuses) if (s >= 500) rawFailures.push(`raw '${label}': answered ${s}: ${printable(r.data.toString('latin1').slice(0, 300))}`);
      if (reg.child.exitCode !== null || reg.child.signalCode !== null) {
        rawFailures.push(`raw '${label}': the server process died (exit ${reg.child.exitCode}, signal ${reg.child.signalCode})`);
        break;
      }
    }
    // Pipelined requests get one answer each, in order.
    const pipelined = await raw(reg.port, ['GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/nope/../x HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 3000);
    const ps = statusLines(pipelined.data);
    if (ps.length !== 3 || ps[0] !== 200 || ps[2] !== 200 || (ps[1] ?? 500) >= 500) rawFailures.push(`raw pipelined: expected 3 answers (200, 4xx, 200), got ${JSON.stringify(ps)}`);
    assert.deepEqual(rawFailures, []);
  });

  test('raw socket: requests whose body ends early leave no state behind', async () => {
    const failures: string[] = [];
    const post = await send(base, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/` });
    assert.equal(post.status, 202);
    const loc = locationPath(base, headerValue(post, 'location'));
    const status = async (why: string, range: string): Promise<void> => {
      const res = await send(base, { method: 'GET', path: loc });
      if (res.status !== 204 || headerValue(res, 'range') !== range) failures.push(`${why}: GET upload -> ${res.status} Range ${headerValue(res, 'range')}, expected 204 Range ${range}`);
    };
    const head = async (headers: string, mode: 'half' | 'destroy' | 'keep', parts: (Buffer | string)[]): Promise<RawResult> => {
      const r = await raw(reg.port, [headers, ...parts], mode, 3000);
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the server notice the cut
      return r;
    };
    // PATCH announcing 1000 bytes, sending 10, then half-close / reset / go quiet then reset.
    for (const mode of ['half', 'destroy'] as const) {
      const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n`, mode, ['\r\n', Buffer.alloc(10, 7)]);
      for (const s of statusLines(r.data)) if (s >= 500) failures.push(`short PATCH body (${mode}): answered ${s}`);
      await status(`after a PATCH body cut short (${mode})`, '0-0');
    }
    // Chunked PATCH: two good chunks, then an invalid chunk header.
    {
      const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n`, 'keep', ['\r\n5\r\nhello\r\n5\r\nworld\r\nzz\r\n']);
      for (const s of statusLines(r.data)) if (s >= 500) failures.push(`malformed chunked PATCH: answered ${s}`);
      await status('after a chunked PATCH with a malformed chunk', '0-0');
    }
    // Chunked PATCH cut off mid-chunk.
    {
      await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n`, 'destroy', ['\r\n100\r\nonly-a-few-bytes']);
      await status('after a chunked PATCH cut off mid-chunk', '0-0');
    }
    // The session still works afterwards and its content is exactly what was acknowledged.
    const patch = await send(base, { method: 'PATCH', path: loc, headers: { 'content-range': '0-2' }, body: 'abc' });
    if (patch.status !== 202 || headerValue(patch, 'range') !== '0-2') failures.push(`PATCH after the cut-short ones -> ${patch.status} Range ${headerValue(patch, 'range')}, expected 202 0-2`);
    // Body longer than Content-Length: the extra bytes are a (bad) next request.
    let content = 'abc';
    {
      const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Range: 3-5\r\nContent-Length: 3\r\n`, 'keep', ['\r\ndefGARBAGE-NOT-HTTP\r\n\r\n']);
      const ss = statusLines(r.data);
      for (const s of ss) if (s >= 500) failures.push(`PATCH with trailing bytes: answered ${s}`);
      // The PATCH itself is complete and valid: the client must be told the truth about it. Either it
      // is answered 202 and applied, or it is answered with an error and not applied.
      const st = await send(base, { method: 'GET', path: loc });
      const range = headerValue(st, 'range');
      if (range === '0-5') content = 'abcdef';
      if (ss[0] === 202 ? range !== '0-5' : range !== '0-2') {
        failures.push(`a complete PATCH (Content-Range 3-5, 3 bytes) followed on the same connection by non-HTTP bytes: first answer on the wire ${ss[0] ?? 'none'} (all: ${JSON.stringify(ss)}), but the upload is now Range ${range}: the answer the client got does not match what the server did`);
      }
    }
    const put = await send(base, { method: 'PUT', path: withQuery(loc, `digest=${sha256(content)}`) });
    if (put.status !== 201) failures.push(`final PUT -> ${describeResult(put)}, expected 201`);
    else {
      const redirect = await send(base, { method: 'GET', path: `/v2/${REPO}/blobs/${sha256(content)}` });
      const got = redirect.status === 307 ? await send(base, { method: 'GET', path: locationPath(base, headerValue(redirect, 'location')) }) : redirect;
      if (got.body.toString() !== content) failures.push(`blob assembled around cut-short requests is ${JSON.stringify(got.body.toString().slice(0, 50))}, expected ${JSON.stringify(content)}`);
    }
    // Monolithic POST and upload PUT cut short: the blob must not appear.
    const full = prng(SEED ^ 0x99).bytes(1000);
    const d = sha256(full);
    for (const mode of ['half', 'destroy'] as const) {
      await head(`POST /v2/${REPO}/blobs/uploads/?digest=${d} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n`, mode, ['\r\n', full.subarray(0, 500)]);
      const p2 = await send(base, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/` });
      const loc2 = locationPath(base, headerValue(p2, 'location'));
      await head(`PUT ${withQuery(loc2, `digest=${d}`)} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n`, mode, ['\r\n', full.subarray(0, 999)]);
      const hb = await send(base, { method: 'HEAD', path: `/v2/${REPO}/blobs/${d}` });
      if (hb.status !== 404) failures.push(`blob from a cut-short POST/PUT (${mode}) is visible: HEAD -> ${hb.status}`);
      const st = await send(base, { method: 'GET', path: loc2 });
      if (!(st.status === 404 || (st.status === 204 && headerValue(st, 'range') === '0-0'))) failures.push(`session after a cut-short PUT (${mode}): GET -> ${st.status} Range ${headerValue(st, 'range')}, expected 404 or 204 0-0`);
      // The session can still be completed correctly with the full body (no stale partial bytes).
      if (st.status === 204) {
        const fin = await send(base, { method: 'PUT', path: withQuery(loc2, `digest=${d}`), body: full });
        if (fin.status !== 201) failures.push(`completing a session after a cut-short PUT (${mode}) -> ${describeResult(fin)}, expected 201`);
        const del = await send(base, { method: 'DELETE', path: `/v2/${REPO}/blobs/${d}` });
        if (fin.status === 201 && del.status !== 202) failures.push(`DELETE blob -> ${del.status}`);
      }
    }
    // Manifest PUT cut short: no tag.
    for (const mode of ['half', 'destroy'] as const) {
      const tag = `bad-cut-${mode}`;
      await head(`PUT /v2/${MF}/manifests/${tag} HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: ${ctx.manifest.size}\r\n`, mode, ['\r\n', ctx.manifest.bytes.subarray(0, 40)]);
      const g = await send(base, { method: 'GET', path: `/v2/${MF}/manifests/${tag}` });
      if (g.status !== 404) failures.push(`tag from a cut-short manifest PUT (${mode}) is visible: GET -> ${g.status}`);
    }
    assert.deepEqual(failures, []);
  });

  test('raw socket: 64 stalled connections do not block other clients', async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 64; i++) {
        const s = net.connect({ host: '127.0.0.1', port: reg.port });
        s.on('error', () => undefined);
        s.write(i % 2 ? 'GET /v2/ HTTP/1.1\r\nHost: x\r\n' : `PATCH /v2/${REPO}/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc`);
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 20; i++) {
        const res = await send(base, { method: 'GET', path: '/v2/' }, { timeoutMs: 2000 });
        assert.equal(res.status, 200);
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  test('no tag from a rejected manifest PUT is listed', async () => {
    const res = await send(base, { method: 'GET', path: `/v2/${MF}/tags/list?n=1000` });
    assert.equal(res.status, 200, describeResult(res));
    const tags = (JSON.parse(res.body.toString()) as { tags: string[] }).tags;
    const bad = tags.filter((t) => t.startsWith('bad-') && !acceptedBadTags.has(t));
    assert.deepEqual(bad, [], `tags of rejected or cut-short manifest PUTs are listed: ${bad.slice(0, 20).join(', ')}`);
    assert.ok(tags.includes('good'));
  });

  test('the server is still alive and serving the original content', async () => {
    assert.equal(reg.child.exitCode, null, 'registry process exited');
    assert.equal(reg.child.signalCode, null, 'registry process was killed');
    const v2 = await send(base, { method: 'GET', path: '/v2/' });
    assert.equal(v2.status, 200);
    assert.deepEqual(JSON.parse(v2.body.toString()), {});
    const mres = await send(base, { method: 'GET', path: `/v2/${REPO}/manifests/good`, headers: { accept: OCI_MANIFEST } });
    assert.equal(mres.status, 200);
    assert.ok(mres.body.equals(ctx.manifest.bytes), 'manifest bytes changed');
    const redirect = await send(base, { method: 'GET', path: `/v2/${REPO}/blobs/${ctx.layer.digest}` });
    assert.equal(redirect.status, 307);
    const blob = await send(base, { method: 'GET', path: locationPath(base, headerValue(redirect, 'location')) });
    assert.equal(sha256(blob.body), ctx.layer.digest);
  });
});
