// Small HTTP helpers for the API tests: one `Client` per running registry, requests that read the
// whole reply eagerly (so assertion messages can show it), blob/manifest push helpers and
// assertions for the OCI error body. Written from the OCI Distribution Spec v1.1, not the server.
import assert from 'node:assert/strict';
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { createHash, randomBytes } from 'node:crypto';

export {
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  EMPTY_DESCRIPTOR,
  EMPTY_DIGEST,
  EMPTY_MEDIA_TYPE,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from '../support/oci.ts';
export type { Descriptor } from '../support/oci.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../support/oci.ts';
export const API_VERSION = 'registry/2.0';
export const MAX_MANIFEST = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;


export const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
export const sha512 = (data: Uint8Array | string): string => `sha512:${createHash('sha512').update(data).digest('hex')}`;
export const bytes = (n: number): Buffer => randomBytes(n);
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
/** A sha256 digest of random bytes: well-formed and (practically) never stored. */
export const randomDigest = (): string => sha256(randomBytes(32));

let repoCounter = 0;
/** A repository name unique within this test process (tests share one registry per file). */
export function uniqueRepo(prefix: string): string {
  repoCounter += 1;
  return `${prefix}/r${repoCounter}-${randomBytes(3).toString('hex')}`;
}

/** A reply with the body already read. */
export interface Reply {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** `METHOD url -> status body` for assertion messages. */
  where: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Appends a query parameter to a Location without re-encoding what is already there. */
export function withQuery(location: string, key: string, value: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

export class Client {
  readonly base: string;

  constructor(base: string) {
    this.base = base.replace(/\/$/, '');
  }

  /** Absolute URL for a path (or for a Location header, relative or absolute). */
  resolve(pathOrUrl: string): string {
    return new URL(pathOrUrl, `${this.base}/`).toString();
  }

  async req(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Reply> {
    const url = this.resolve(pathOrUrl);
    // A hung request fails its test with a clear message instead of stalling the whole run.
    const init: RequestInit & { duplex?: 'half' } = { method, redirect: 'manual', headers: opts.headers ?? {}, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (opts.body !== undefined) {
      init.body = opts.body;
      if (opts.body instanceof ReadableStream) init.duplex = 'half';
    }
    let res: Response;
    let body: Buffer;
    try {
      res = await fetch(url, init);
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new Error(`${method} ${url} failed: ${e instanceof Error ? `${e.message} ${String(e.cause ?? '')}` : String(e)}`, { cause: e });
    }
    const text = body.toString('utf8');
    const shown = text.length > 400 ? `${text.slice(0, 400)}...` : text;
    return { method, url, status: res.status, headers: res.headers, body, text, where: `${method} ${url} -> ${res.status} ${shown}` };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.req('GET', path, { headers });
  }

  head(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.req('HEAD', path, { headers });
  }

  delete(path: string): Promise<Reply> {
    return this.req('DELETE', path);
  }

  /** POST /v2/<repo>/blobs/uploads/ and check the 202 reply; returns the Location and upload id. */
  async startUpload(repo: string): Promise<{ location: string; uuid: string; reply: Reply }> {
    const r = await this.req('POST', `/v2/${repo}/blobs/uploads/`);
    expectStatus(r, 202);
    const location = r.headers.get('location');
    assert.ok(location, `no Location: ${r.where}`);
    const uuid = r.headers.get('docker-upload-uuid');
    assert.ok(uuid, `no Docker-Upload-UUID: ${r.where}`);
    return { location, uuid, reply: r };
  }

  /** Uploads a blob with POST + PUT (the containerd way); asserts 201 and returns its digest. */
  async uploadBlob(repo: string, data: Uint8Array, digest = sha256(data)): Promise<string> {
    const { location } = await this.startUpload(repo);
    const r = await this.req('PUT', withQuery(location, 'digest', digest), { body: data });
    expectStatus(r, 201);
    assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    return digest;
  }

  /** Uploads `data` as a blob and returns its descriptor. */
  async blob(repo: string, data: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = await this.uploadBlob(repo, data);
    return { mediaType, digest, size: data.length };
  }

  /**
   * PUT a manifest. `mediaType` becomes the Content-Type; pass null to send no Content-Type.
   * Objects are serialized with JSON.stringify; strings/bytes are sent as they are.
   */
  putManifest(repo: string, ref: string, manifest: unknown, mediaType: string | null): Promise<Reply> {
    const body = manifest instanceof Uint8Array ? manifest : typeof manifest === 'string' ? utf8(manifest) : json(manifest);
    const headers: Record<string, string> = mediaType === null ? {} : { 'content-type': mediaType };
    return this.req('PUT', `/v2/${repo}/manifests/${ref}`, { headers, body });
  }

  /** PUT a manifest and assert the 201; returns the digest and the bytes sent. */
  async pushManifest(repo: string, ref: string, manifest: unknown, mediaType: string): Promise<{ digest: string; body: Buffer }> {
    const body = manifest instanceof Uint8Array ? Buffer.from(manifest) : typeof manifest === 'string' ? utf8(manifest) : json(manifest);
    const r = await this.putManifest(repo, ref, body, mediaType);
    expectStatus(r, 201);
    const digest = sha256(body);
    assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    return { digest, body };
  }

  /** Uploads a fresh config and layer to `repo` and returns an OCI image manifest (not pushed). */
  async imageManifest(repo: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const config = await this.blob(repo, json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: bytes(8).toString('hex') }), OCI_CONFIG);
    const layer = await this.blob(repo, bytes(300), OCI_LAYER_GZIP);
    return { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], ...extra };
  }

  /** Pushes a fresh OCI image (blobs + manifest) under `ref`; returns the manifest digest and bytes. */
  async pushImage(repo: string, ref: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; body: Buffer; size: number }> {
    const m = await this.imageManifest(repo, extra);
    const { digest, body } = await this.pushManifest(repo, ref, m, OCI_MANIFEST);
    return { digest, body, size: body.length };
  }
}

export function expectApiVersion(r: Reply): void {
  assert.equal(r.headers.get('docker-distribution-api-version'), API_VERSION, `Docker-Distribution-API-Version missing: ${r.where}`);
}

/** Asserts the status and the API version header every response carries. */
export function expectStatus(r: Reply, status: number): void {
  assert.equal(r.status, status, `expected ${status}: ${r.where}`);
  expectApiVersion(r);
}

/** Asserts an OCI error reply: status, JSON content type, `{"errors":[{code,message,...}]}`. */
export function expectError(r: Reply, status: number, code: string): void {
  expectStatus(r, status);
  expectErrorBody(r, code);
}

/**
 * The error body alone, without the API version header: for the signed /_blobs/ URLs, which stand
 * in for S3/CloudFront and are not part of the registry API.
 */
export function expectErrorBody(r: Reply, code: string): void {
  assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/, `error Content-Type: ${r.where}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.text);
  } catch {
    assert.fail(`error body is not JSON: ${r.where}`);
  }
  const errors = (parsed as { errors?: unknown }).errors;
  assert.ok(Array.isArray(errors) && errors.length >= 1, `no errors array: ${r.where}`);
  const first = errors[0] as { code?: unknown; message?: unknown };
  assert.equal(first.code, code, `error code: ${r.where}`);
  assert.equal(typeof first.message, 'string', `error message: ${r.where}`);
}

/** Asserts a HEAD error: status only, no body. */
export function expectHeadError(r: Reply, status: number): void {
  expectStatus(r, status);
  assert.equal(r.body.length, 0, `HEAD error with a body: ${r.where}`);
}

/** Parses a JSON body, failing the test with the reply if it is not JSON. */
export function bodyJson<T>(r: Reply): T {
  try {
    return JSON.parse(r.text) as T;
  } catch {
    return assert.fail(`body is not JSON: ${r.where}`);
  }
}

/** The Location header resolved against the registry; asserts it stays on the same origin. Returns path + query. */
export function locationPath(client: Client, r: Reply): string {
  const loc = r.headers.get('location');
  assert.ok(loc, `no Location: ${r.where}`);
  const u = new URL(loc, `${client.base}/`);
  assert.equal(u.origin, new URL(client.base).origin, `Location on another origin: ${r.where}`);
  return `${u.pathname}${u.search}`;
}

/** A JSON document whose UTF-8 serialization is exactly `size` bytes (padding in an annotation). */
export function paddedManifest(manifest: Record<string, unknown>, size: number): Buffer {
  const withPad = (pad: string): Buffer => json({ ...manifest, annotations: { 'org.example.pad': pad } });
  const baseLen = withPad('').length;
  assert.ok(size >= baseLen, 'padding target too small');
  const out = withPad('x'.repeat(size - baseLen));
  assert.equal(out.length, size);
  return out;
}

/** Changes the character in the middle of `s` to another one of the same class (digit, a-z, A-Z). */
export function flipMiddle(s: string): string {
  assert.ok(s.length > 0, 'nothing to tamper with');
  const i = Math.floor(s.length / 2);
  const ch = s.charCodeAt(i);
  const rot = (base: number, n: number): number => base + ((ch - base + 1) % n);
  let next: number;
  if (ch >= 48 && ch <= 57) next = rot(48, 10);
  else if (ch >= 97 && ch <= 122) next = rot(97, 26);
  else if (ch >= 65 && ch <= 90) next = rot(65, 26);
  else next = 97;
  return s.slice(0, i) + String.fromCharCode(next) + s.slice(i + 1);
}

/** Starts one registry for the whole test file and stops it afterwards; hands a Client to `use`. */
export function registryPerFile(use: (c: Client, registry: RunningRegistry) => void): void {
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    use(new Client(registry.url), registry);
  });
  afterAll(async () => {
    await registry?.stop();
  });
}
