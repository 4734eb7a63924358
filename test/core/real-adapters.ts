// The registry core (createRegistry) wired to the real local adapters, without HTTP: an in-memory
// SqliteMetadataStore and an FsBlobStore in a temp dir, driven by plain RegistryRequest objects.
// Shared by the test/core/*.test.ts files, which cover what is hard to provoke over a socket.
// Expected behaviour comes from the OCI distribution spec, not from the implementation.
import assert from 'node:assert/strict';
import type { TestContext } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FsBlobStore } from '../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { allowAll, type Authorizer } from '../../functions/core/access.ts';
import type { RegistrySettings } from '../../functions/core/context.ts';
import type { RegistryRequest, RegistryResponse } from '../../functions/core/http.ts';
import type { BlobStore, MetadataStore } from '../../functions/core/ports.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';

import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from '../support/oci.ts';

export {
  EMPTY_DESCRIPTOR,
  EMPTY_DIGEST,
  EMPTY_MEDIA_TYPE as EMPTY_TYPE,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP as OCI_LAYER,
  OCI_MANIFEST,
} from '../support/oci.ts';

export const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const sha512 = (b: Uint8Array | string): string => `sha512:${createHash('sha512').update(b).digest('hex')}`;
export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

export async function* stream(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}


export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | undefined;
  errorCode: string | undefined;
  /** For assertion messages. */
  where: string;
  json(): unknown;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** A byte array gets a Content-Length unless `chunked`; an async iterable is sent as is. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  chunked?: boolean;
}

async function readBody(body: RegistryResponse['body']): Promise<Buffer | undefined> {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return utf8(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface Fixture {
  dir: string;
  blobs: FsBlobStore;
  metadata: SqliteMetadataStore;
  registry: Registry;
  errors: { error: unknown; req: RegistryRequest }[];
  call(method: string, url: string, opts?: CallOptions): Promise<Reply>;
}

export interface SetupOptions {
  settings?: Partial<RegistrySettings>;
  wrapMetadata?: (m: MetadataStore) => MetadataStore;
  wrapBlobs?: (b: BlobStore) => BlobStore;
  /** Default: allowAll. */
  authorizer?: Authorizer;
}

/** A registry on fresh real adapters; everything is closed and removed when the test ends. */
export async function setup(t: TestContext, opts: SetupOptions = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'core-real-adapters-'));
  const metadata = new SqliteMetadataStore(':memory:');
  t.onTestFinished(async () => {
    metadata.close();
    await rm(dir, { recursive: true, force: true });
  });
  const signer = new TokenSigner(randomBytes(32));
  const blobs = new FsBlobStore(dir, signer);
  await blobs.init();
  const errors: Fixture['errors'] = [];
  const registry = createRegistry({
    metadata: opts.wrapMetadata ? opts.wrapMetadata(metadata) : metadata,
    blobs: opts.wrapBlobs ? opts.wrapBlobs(blobs) : blobs,
    authorizer: opts.authorizer ?? allowAll,
    uploadTokens: signer,
    ...(opts.settings ? { settings: opts.settings } : {}),
    onError: (error, req) => errors.push({ error, req }),
  });
  async function call(method: string, url: string, o: CallOptions = {}): Promise<Reply> {
    const u = new URL(url, 'http://registry.invalid');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
    let body: AsyncIterable<Uint8Array> | undefined;
    if (o.body instanceof Uint8Array) {
      if (!o.chunked && headers['content-length'] === undefined) headers['content-length'] = String(o.body.byteLength);
      body = stream(o.body);
    } else if (o.body) {
      body = o.body;
    }
    const req: RegistryRequest = { method, path: u.pathname, query: u.searchParams, headers, ...(body ? { body } : {}) };
    const res = await registry(req);
    const buf = await readBody(res.body);
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) lower[k.toLowerCase()] = v;
    return {
      status: res.status,
      headers: lower,
      body: buf,
      errorCode: res.errorCode,
      where: `${method} ${url} -> ${res.status} ${buf?.toString('utf8').slice(0, 300) ?? ''}`,
      json: () => JSON.parse(buf?.toString('utf8') ?? 'null') as unknown,
    };
  }
  return { dir, blobs, metadata, registry, errors, call };
}

export function errorCodeOf(r: Reply): string | undefined {
  const doc = r.json() as { errors?: { code?: string }[] } | null;
  return doc?.errors?.[0]?.code;
}

export function assertError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.where);
  assert.equal(errorCodeOf(r), code, r.where);
  assert.equal(r.headers['content-type'], 'application/json', r.where);
}

export async function startSession(f: Fixture, repo: string): Promise<string> {
  const r = await f.call('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(r.status, 202, r.where);
  assert.ok(r.headers.location, 'Location');
  return r.headers.location;
}

/** Files under `sub` of the data dir, as paths relative to it. */
export async function filesUnder(f: Fixture, sub: string): Promise<string[]> {
  const root = join(f.dir, sub);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(f.dir, join(e.parentPath, e.name))).sort();
}

export async function uploadSizeOnDisk(f: Fixture, location: string): Promise<number> {
  const id = new URL(location, 'http://h').pathname.split('/').pop() ?? '';
  return (await stat(f.blobs.uploadPath(id))).size;
}

export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** Pushes `bytes` as a blob of `repo` in one POST ?digest=. */
export async function pushBlob(f: Fixture, repo: string, bytes: Uint8Array, digest = sha256(bytes)): Promise<string> {
  const r = await f.call('POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, { body: bytes });
  assert.equal(r.status, 201, r.where);
  return digest;
}

/** An artifact manifest that needs no uploads (empty config); `seed` makes it unique. */
export function artifact(seed: string, extra: Record<string, unknown> = {}): Buffer {
  return utf8(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.thing',
      config: EMPTY_DESCRIPTOR,
      layers: [],
      annotations: { seed },
      ...extra,
    }),
  );
}

export async function putManifest(f: Fixture, repo: string, ref: string, body: Uint8Array, contentType = OCI_MANIFEST): Promise<Reply> {
  return f.call('PUT', `/v2/${repo}/manifests/${ref}`, { body, headers: { 'content-type': contentType } });
}

/** Wraps `target` so that `method` is `impl`; every other member goes to the real object. */
export function replaceMethod<T extends object>(target: T, method: keyof T, impl: (...args: never[]) => unknown): T {
  return new Proxy(target, {
    get(t, p) {
      if (p === method) return impl;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Wraps `target` so that `method` fails with `error`; every other member goes to the real object. */
export function failingMethod<T extends object>(target: T, method: keyof T, error: unknown): T {
  return replaceMethod(target, method, async () => {
    throw error;
  });
}
