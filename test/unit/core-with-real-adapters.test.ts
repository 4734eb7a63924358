// The registry core (createRegistry) wired to the real local adapters, without HTTP: an in-memory
// SqliteMetadataStore and an FsBlobStore in a temp dir. Covers what is hard to provoke over a socket:
// bodies that fail midway, overlapping appends, digest mismatches, sha512, commit dedupe, the
// empty descriptor, listings and unexpected port errors. Expected behaviour comes from the OCI
// distribution spec and /tmp/behaviour.md, not from the implementation.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FsBlobStore } from '../../functions/adapters/local/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/local/sqlite-metadata.ts';
import { allowAll } from '../../functions/core/access.ts';
import type { RegistrySettings } from '../../functions/core/context.ts';
import { BodyReadError, type RegistryRequest, type RegistryResponse } from '../../functions/core/http.ts';
import type { BlobStore, MetadataStore } from '../../functions/core/ports.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const EMPTY_TYPE = 'application/vnd.oci.empty.v1+json';
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const EMPTY_DESCRIPTOR = { mediaType: EMPTY_TYPE, digest: EMPTY_DIGEST, size: 2 };
const MiB = 1024 * 1024;

const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Uint8Array | string): string => `sha512:${createHash('sha512').update(b).digest('hex')}`;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

async function* stream(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

/** A body that yields `parts`, then fails the way the entry point reports a broken request body. */
async function* failing(parts: Uint8Array[], error: Error = new BodyReadError(new Error('client went away'))): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
  throw error;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | undefined;
  errorCode: string | undefined;
  /** For assertion messages. */
  where: string;
  json(): unknown;
}

interface CallOptions {
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

interface Fixture {
  dir: string;
  blobs: FsBlobStore;
  metadata: SqliteMetadataStore;
  registry: Registry;
  errors: { error: unknown; req: RegistryRequest }[];
  call(method: string, url: string, opts?: CallOptions): Promise<Reply>;
}

interface SetupOptions {
  settings?: Partial<RegistrySettings>;
  wrapMetadata?: (m: MetadataStore) => MetadataStore;
  wrapBlobs?: (b: BlobStore) => BlobStore;
}

/** A registry on fresh real adapters; everything is closed and removed when the test ends. */
async function setup(t: TestContext, opts: SetupOptions = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'core-real-adapters-'));
  const metadata = new SqliteMetadataStore(':memory:');
  t.after(async () => {
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
    authorizer: allowAll,
    signer,
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

function errorCodeOf(r: Reply): string | undefined {
  const doc = r.json() as { errors?: { code?: string }[] } | null;
  return doc?.errors?.[0]?.code;
}

function assertError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.where);
  assert.equal(errorCodeOf(r), code, r.where);
  assert.equal(r.headers['content-type'], 'application/json', r.where);
}

async function startSession(f: Fixture, repo: string): Promise<string> {
  const r = await f.call('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(r.status, 202, r.where);
  assert.ok(r.headers.location, 'Location');
  return r.headers.location;
}

/** Files under `sub` of the data dir, as paths relative to it. */
async function filesUnder(f: Fixture, sub: string): Promise<string[]> {
  const root = join(f.dir, sub);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(f.dir, join(e.parentPath, e.name))).sort();
}

async function uploadSizeOnDisk(f: Fixture, location: string): Promise<number> {
  const id = new URL(location, 'http://h').pathname.split('/').pop() ?? '';
  return (await stat(f.blobs.uploadPath(id))).size;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** Pushes `bytes` as a blob of `repo` in one POST ?digest=. */
async function pushBlob(f: Fixture, repo: string, bytes: Uint8Array, digest = sha256(bytes)): Promise<string> {
  const r = await f.call('POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, { body: bytes });
  assert.equal(r.status, 201, r.where);
  return digest;
}

/** An artifact manifest that needs no uploads (empty config); `seed` makes it unique. */
function artifact(seed: string, extra: Record<string, unknown> = {}): Buffer {
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

async function putManifest(f: Fixture, repo: string, ref: string, body: Uint8Array, contentType = OCI_MANIFEST): Promise<Reply> {
  return f.call('PUT', `/v2/${repo}/manifests/${ref}`, { body, headers: { 'content-type': contentType } });
}

/** Wraps `target` so that `method` fails with `error`; every other member goes to the real object. */
function failingMethod<T extends object>(target: T, method: keyof T, error: unknown): T {
  return new Proxy(target, {
    get(t, p) {
      if (p === method) {
        return async () => {
          throw error;
        };
      }
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('blob uploads on real adapters', () => {
  it('chunked upload: POST, PATCH, PATCH with Content-Range, PUT ?digest', async (t) => {
    const f = await setup(t);
    const a = randomBytes(1000);
    const b = randomBytes(500);
    const loc = await startSession(f, 'r/x');
    const p1 = await f.call('PATCH', loc, { body: a, chunked: true });
    assert.equal(p1.status, 202, p1.where);
    assert.equal(p1.headers.range, '0-999');
    const p2 = await f.call('PATCH', p1.headers.location ?? '', { body: b, headers: { 'content-range': '1000-1499' } });
    assert.equal(p2.status, 202, p2.where);
    assert.equal(p2.headers.range, '0-1499');
    const digest = sha256(Buffer.concat([a, b]));
    const put = await f.call('PUT', withDigest(p2.headers.location ?? '', digest));
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers.location, `/v2/r/x/blobs/${digest}`);
    assert.equal(put.headers['docker-content-digest'], digest);
    const head = await f.call('HEAD', `/v2/r/x/blobs/${digest}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '1500');
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), Buffer.concat([a, b]));
    assert.deepEqual(await filesUnder(f, 'uploads'), [], 'no upload leftovers');
  });

  it('a body that fails midway leaves the upload exactly as before (size, then digest)', async (t) => {
    const f = await setup(t);
    const first = randomBytes(10);
    const loc = await startSession(f, 'r/x');
    const ok = await f.call('PATCH', loc, { body: first });
    assert.equal(ok.status, 202, ok.where);
    assert.equal(ok.headers.range, '0-9');

    // Broken chunked body, and a broken body with Content-Range/Content-Length.
    const broken1 = await f.call('PATCH', loc, { body: failing([randomBytes(7), randomBytes(3)]) });
    assert.ok(broken1.status >= 400 && broken1.status < 500, broken1.where);
    assert.notEqual(broken1.errorCode, 'UNKNOWN', broken1.where);
    const broken2 = await f.call('PATCH', loc, {
      body: failing([randomBytes(5)]),
      headers: { 'content-range': '10-29', 'content-length': '20' },
    });
    assert.ok(broken2.status >= 400 && broken2.status < 500, broken2.where);

    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, status.where);
    assert.equal(status.headers.range, '0-9', 'size unchanged by the failed requests');
    assert.equal(await uploadSizeOnDisk(f, loc), 10, 'no stray bytes on disk');

    const rest = randomBytes(6);
    const digest = sha256(Buffer.concat([first, rest]));
    const put = await f.call('PUT', withDigest(loc, digest), { body: rest });
    assert.equal(put.status, 201, put.where);
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), Buffer.concat([first, rest]));
  });

  it('a large body (> one 4 MiB write batch) failing midway is rolled back too', async (t) => {
    const f = await setup(t);
    const first = randomBytes(1 * MiB);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PATCH', loc, { body: failing([randomBytes(3 * MiB), randomBytes(3 * MiB)]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const status = await f.call('GET', loc);
    assert.equal(status.headers.range, `0-${MiB - 1}`, status.where);
    assert.equal(await uploadSizeOnDisk(f, loc), MiB);
    const digest = sha256(first);
    const put = await f.call('PUT', withDigest(loc, digest));
    assert.equal(put.status, 201, put.where);
    assert.equal((await stat(f.blobs.blobPath(digest))).size, MiB);
  });

  it('a failed sha512 upload chunk leaves the sha512 digest as before', async (t) => {
    const f = await setup(t);
    const first = randomBytes(4096);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PATCH', loc, { body: failing([randomBytes(100)]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const put = await f.call('PUT', withDigest(loc, sha512(first)));
    assert.equal(put.status, 201, put.where);
  });

  it('a final PUT chunk that fails midway keeps the session, which can then be completed', async (t) => {
    const f = await setup(t);
    const first = randomBytes(100);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: first })).status, 202);
    const broken = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([first, utf8('tail')]))), { body: failing([utf8('ta')]) });
    assert.ok(broken.status >= 400 && broken.status < 500, broken.where);
    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, status.where);
    assert.equal(status.headers.range, '0-99');
    const put = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([first, utf8('tail')]))), { body: utf8('tail') });
    assert.equal(put.status, 201, put.where);
  });

  it('a body shorter or longer than its Content-Length is SIZE_INVALID and changes nothing', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: utf8('0123456789') })).status, 202);
    const short = await f.call('PATCH', loc, { body: stream(utf8('abc')), headers: { 'content-length': '5' } });
    assert.ok(short.status === 400 || short.status === 416, short.where);
    const long = await f.call('PATCH', loc, { body: stream(utf8('abcdefg')), headers: { 'content-length': '5' } });
    assert.ok(long.status === 400 || long.status === 416, long.where);
    const status = await f.call('GET', loc);
    assert.equal(status.headers.range, '0-9', status.where);
    assert.equal(await uploadSizeOnDisk(f, loc), 10);
    const put = await f.call('PUT', withDigest(loc, sha256('0123456789')));
    assert.equal(put.status, 201, put.where);
  });

  it('a failing monolithic POST ?digest= stores nothing', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(2000);
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: failing([bytes.subarray(0, 1000)]) });
    assert.ok(r.status >= 400 && r.status < 500, r.where);
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404);
  });

  it('Content-Range not at the current size: 416 with the current Range, nothing appended', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: utf8('0123456789') })).status, 202);
    for (const range of ['0-2', '5-7', '11-13']) {
      const r = await f.call('PATCH', loc, { body: utf8('abc'), headers: { 'content-range': range } });
      assertError(r, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal(r.headers.range, '0-9', r.where);
    }
    assert.equal(await uploadSizeOnDisk(f, loc), 10);
  });
});

describe('concurrent appends to one session', () => {
  it('an append while another is streaming is refused; the first one wins intact', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    const a1 = randomBytes(1000);
    const a2 = randomBytes(1000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstChunkTaken!: () => void;
    const midway = new Promise<void>((resolve) => (firstChunkTaken = resolve));
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield a1;
      firstChunkTaken();
      await gate;
      yield a2;
    }
    const pendingA = f.call('PATCH', loc, { body: slow() });
    await midway;
    const b = await f.call('PATCH', loc, { body: utf8('BBBB') });
    release();
    const a = await pendingA;
    assert.ok(b.status >= 400 && b.status < 500, `the overlapping append is refused: ${b.where}`);
    assert.notEqual(b.errorCode, 'UNKNOWN');
    assert.equal(a.status, 202, a.where);
    assert.equal(a.headers.range, '0-1999');
    assert.equal(await uploadSizeOnDisk(f, loc), 2000);
    const put = await f.call('PUT', withDigest(loc, sha256(Buffer.concat([a1, a2]))));
    assert.equal(put.status, 201, put.where);
  });

  it('an append that read the session before a competing append completed cannot destroy that append', async (t) => {
    // B reads the session (size 0), then A appends and commits its size; only then does B stream its
    // body at the stale offset. The conditional update makes B lose; A's bytes must survive.
    let holdNextRead: Promise<void> | undefined;
    let readTaken!: () => void;
    const bHasRead = new Promise<void>((resolve) => (readTaken = resolve));
    const f = await setup(t, {
      wrapMetadata: (m) =>
        new Proxy(m, {
          get(target, p) {
            if (p === 'getUpload') {
              return async (id: string) => {
                const snapshot = await target.getUpload(id);
                const hold = holdNextRead;
                if (hold) {
                  holdNextRead = undefined;
                  readTaken();
                  await hold;
                }
                return snapshot;
              };
            }
            const v: unknown = Reflect.get(target, p, target);
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }),
    });
    const loc = await startSession(f, 'r/x');
    let release!: () => void;
    holdNextRead = new Promise<void>((resolve) => (release = resolve));
    const pendingB = f.call('PATCH', loc, { body: utf8('BBBBBBBB') });
    await bHasRead;
    const aBytes = randomBytes(5000);
    const a = await f.call('PATCH', loc, { body: aBytes });
    assert.equal(a.status, 202, a.where);
    assert.equal(a.headers.range, '0-4999');
    release();
    const b = await pendingB;
    assert.ok(b.status >= 400 && b.status < 500, `the stale append is refused: ${b.where}`);

    const status = await f.call('GET', loc);
    assert.equal(status.status, 204, `the session survives the losing request: ${status.where}`);
    assert.equal(status.headers.range, '0-4999');
    const put = await f.call('PUT', withDigest(loc, sha256(aBytes)));
    assert.equal(put.status, 201, `A's upload completes with A's bytes: ${put.where}`);
    assert.deepEqual(await readFile(f.blobs.blobPath(sha256(aBytes))), aBytes);
    assert.deepEqual(f.errors, [], 'no unexpected errors');
  });
});

describe('digest verification', () => {
  it('PUT with a mismatching digest: 400 DIGEST_INVALID, the session and its bytes are gone', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(300);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: bytes })).status, 202);
    const wrong = sha256(utf8('something else'));
    const put = await f.call('PUT', withDigest(loc, wrong));
    assertError(put, 400, 'DIGEST_INVALID');
    assertError(await f.call('GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PATCH', loc, { body: utf8('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PUT', withDigest(loc, sha256(bytes))), 404, 'BLOB_UPLOAD_UNKNOWN');
    assert.deepEqual(await filesUnder(f, 'uploads'), [], 'upload bytes discarded');
    assert.deepEqual(await filesUnder(f, 'blobs'), [], 'nothing stored');
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${wrong}`)).status, 404);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404);
  });

  it('a sha512 digest of other bytes is a mismatch too', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    const put = await f.call('PUT', withDigest(loc, sha512('other')), { body: utf8('mine') });
    assertError(put, 400, 'DIGEST_INVALID');
    assertError(await f.call('GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('monolithic POST with the wrong digest stores nothing', async (t) => {
    const f = await setup(t);
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256('not this')}`, { body: utf8('this') });
    assertError(r, 400, 'DIGEST_INVALID');
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
  });

  it('sha512 blobs: monolithic and chunked, HEAD and GET', async (t) => {
    const f = await setup(t);
    const one = randomBytes(777);
    const d1 = sha512(one);
    const post = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${d1}`, { body: one });
    assert.equal(post.status, 201, post.where);
    assert.equal(post.headers.location, `/v2/r/x/blobs/${d1}`);
    assert.equal(post.headers['docker-content-digest'], d1);
    const head = await f.call('HEAD', `/v2/r/x/blobs/${d1}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '777');
    assert.equal(head.headers['docker-content-digest'], d1);
    const get = await f.call('GET', `/v2/r/x/blobs/${d1}`);
    assert.equal(get.status, 307, get.where);
    assert.ok(get.headers.location?.startsWith('/_blobs/'), get.headers.location);
    assert.deepEqual(await readFile(f.blobs.blobPath(d1)), one);

    const two = [randomBytes(3000), randomBytes(10)];
    const d2 = sha512(Buffer.concat(two));
    const loc = await startSession(f, 'r/x');
    const patch = await f.call('PATCH', loc, { body: two[0] ?? new Uint8Array() });
    assert.equal(patch.status, 202, patch.where);
    const put = await f.call('PUT', withDigest(patch.headers.location ?? loc, d2), { body: two[1] ?? new Uint8Array() });
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers['docker-content-digest'], d2);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${d2}`)).headers['content-length'], '3010');
  });

  it('manifests pushed by a sha512 digest are stored under that digest', async (t) => {
    const f = await setup(t);
    const body = artifact('sha512-manifest');
    const digest = sha512(body);
    const put = await putManifest(f, 'r/x', digest, body);
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers['docker-content-digest'], digest);
    assert.equal(put.headers.location, `/v2/r/x/manifests/${digest}`);
    const get = await f.call('GET', `/v2/r/x/manifests/${digest}`);
    assert.equal(get.status, 200, get.where);
    assert.deepEqual(get.body, body);
    assert.equal(get.headers['docker-content-digest'], digest);
    // The sha512 digest of different bytes is refused.
    assertError(await putManifest(f, 'r/x', sha512('other'), body), 400, 'DIGEST_INVALID');
  });
});

describe('content-addressed storage', () => {
  it('two uploads of the same bytes (two repos, both upload styles) leave one file under blobs/', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(64 * 1024);
    const digest = sha256(bytes);
    await pushBlob(f, 'r/a', bytes);
    const loc = await startSession(f, 'r/b');
    assert.equal((await f.call('PATCH', loc, { body: bytes, chunked: true })).status, 202);
    const put = await f.call('PUT', withDigest(loc, digest));
    assert.equal(put.status, 201, put.where);
    await pushBlob(f, 'r/a', bytes); // the same repo again
    assert.deepEqual(await filesUnder(f, 'blobs'), [relative(f.dir, f.blobs.blobPath(digest))]);
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), bytes);
    for (const repo of ['r/a', 'r/b']) {
      const head = await f.call('HEAD', `/v2/${repo}/blobs/${digest}`);
      assert.equal(head.status, 200, head.where);
      assert.equal(head.headers['content-length'], String(bytes.byteLength));
    }
    assert.equal((await f.call('HEAD', `/v2/r/c/blobs/${digest}`)).status, 404, 'not visible from an unlinked repo');
  });

  it('the empty descriptor is stored and linked by the registry itself', async (t) => {
    const f = await setup(t);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
    const body = artifact('empty', { layers: [EMPTY_DESCRIPTOR] });
    const put = await putManifest(f, 'r/art', 'v1', body);
    assert.equal(put.status, 201, put.where);
    const head = await f.call('HEAD', `/v2/r/art/blobs/${EMPTY_DIGEST}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '2');
    assert.equal(head.headers['docker-content-digest'], EMPTY_DIGEST);
    assert.equal((await readFile(f.blobs.blobPath(EMPTY_DIGEST))).toString(), '{}');
    const get = await f.call('GET', `/v2/r/art/blobs/${EMPTY_DIGEST}`);
    assert.equal(get.status, 307, get.where);

    // A second repository: linked there too, still one file.
    const put2 = await putManifest(f, 'r/other', 'v1', artifact('empty-2'));
    assert.equal(put2.status, 201, put2.where);
    assert.equal((await f.call('HEAD', `/v2/r/other/blobs/${EMPTY_DIGEST}`)).status, 200);
    assert.deepEqual(await filesUnder(f, 'blobs'), [relative(f.dir, f.blobs.blobPath(EMPTY_DIGEST))]);
  });

  it('a descriptor with the empty digest but a wrong size is not auto-stored', async (t) => {
    const f = await setup(t);
    const body = artifact('bad-empty', { config: { ...EMPTY_DESCRIPTOR, size: 3 } });
    const put = await putManifest(f, 'r/art', 'v1', body);
    assert.ok(put.status === 400 || put.status === 404, put.where);
    assert.ok(['MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN'].includes(errorCodeOf(put) ?? ''), put.where);
  });

  it('manifest references: missing blob 404 MANIFEST_BLOB_UNKNOWN, size mismatch 400 MANIFEST_INVALID, subject may be missing', async (t) => {
    const f = await setup(t);
    const config = utf8('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layer = randomBytes(100);
    await pushBlob(f, 'r/img', config);
    await pushBlob(f, 'r/img', layer);
    const manifest = (layerSize: number, layerDigest = sha256(layer), extra: Record<string, unknown> = {}) =>
      utf8(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.byteLength },
          layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layerSize }],
          ...extra,
        }),
      );
    assertError(await putManifest(f, 'r/img', 'v1', manifest(100, sha256('missing'))), 404, 'MANIFEST_BLOB_UNKNOWN');
    assertError(await putManifest(f, 'r/img', 'v1', manifest(101)), 400, 'MANIFEST_INVALID');
    assertError(await putManifest(f, 'r/elsewhere', 'v1', manifest(100)), 404, 'MANIFEST_BLOB_UNKNOWN');
    const subject = { mediaType: OCI_MANIFEST, digest: sha256('not pushed yet'), size: 123 };
    const ok = await putManifest(f, 'r/img', 'v1', manifest(100, sha256(layer), { subject }));
    assert.equal(ok.status, 201, ok.where);
    assert.equal(ok.headers['oci-subject'], subject.digest);
  });
});

describe('listings through the core', () => {
  it('tags: byte order, n/last paging with Link, n=0, invalid n, unknown repository', async (t) => {
    const f = await setup(t);
    const body = artifact('tags');
    const tags = ['b', 'a', 'B', '_x', '1', 'a.b', 'a-b', 'Z9'];
    for (const tag of tags) assert.equal((await putManifest(f, 'r/t', tag, body)).status, 201);
    const sorted = [...tags].sort((x, y) => Buffer.compare(utf8(x), utf8(y)));

    const all = await f.call('GET', '/v2/r/t/tags/list');
    assert.equal(all.status, 200, all.where);
    assert.deepEqual(all.json(), { name: 'r/t', tags: sorted });
    assert.equal(all.headers.link, undefined);

    const collected: string[] = [];
    let next: string | undefined = '/v2/r/t/tags/list?n=3';
    let pages = 0;
    while (next) {
      const r = await f.call('GET', next);
      assert.equal(r.status, 200, r.where);
      const page = (r.json() as { tags: string[] }).tags;
      assert.ok(page.length <= 3, r.where);
      collected.push(...page);
      pages += 1;
      const m = r.headers.link ? /^<([^>]+)>; rel="next"$/.exec(r.headers.link) : null;
      if (r.headers.link) {
        assert.ok(m, `Link header format: ${r.headers.link}`);
        assert.match(m?.[1] ?? '', /^\/v2\/r\/t\/tags\/list\?n=3&last=[^&]+$/);
      }
      next = m?.[1];
      assert.ok(pages < 10, 'paging terminates');
    }
    assert.deepEqual(collected, sorted);
    assert.equal(pages, 3);

    const afterLast = await f.call('GET', `/v2/r/t/tags/list?last=${encodeURIComponent(sorted[sorted.length - 1] ?? '')}`);
    assert.deepEqual((afterLast.json() as { tags: string[] }).tags, []);
    const exact = await f.call('GET', `/v2/r/t/tags/list?n=${tags.length}`);
    assert.equal(exact.headers.link, undefined, 'no Link when nothing remains');
    const zero = await f.call('GET', '/v2/r/t/tags/list?n=0');
    assert.equal(zero.status, 200, zero.where);
    assert.deepEqual((zero.json() as { tags: string[] }).tags, []);
    for (const bad of ['-1', 'abc', '1.5', '']) {
      assertError(await f.call('GET', `/v2/r/t/tags/list?n=${bad}`), 400, 'PAGINATION_NUMBER_INVALID');
    }
    assertError(await f.call('GET', '/v2/r/nope/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('n above the maximum page size is capped, with a Link to the rest; no n returns everything', async (t) => {
    const f = await setup(t, { settings: { maxPageSize: 3 } });
    const body = artifact('cap');
    const tags = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    for (const tag of tags) assert.equal((await putManifest(f, 'r/cap', tag, body)).status, 201);
    const big = await f.call('GET', '/v2/r/cap/tags/list?n=100');
    assert.equal(big.status, 200, big.where);
    assert.deepEqual((big.json() as { tags: string[] }).tags, ['t1', 't2', 't3']);
    assert.match(big.headers.link ?? '', /^<\/v2\/r\/cap\/tags\/list\?n=\d+&last=t3>; rel="next"$/);
    const everything = await f.call('GET', '/v2/r/cap/tags/list');
    assert.deepEqual((everything.json() as { tags: string[] }).tags, tags);
  });

  it('catalog: byte order and paging with Link', async (t) => {
    const f = await setup(t);
    const repos = ['b/x', 'a', 'a/b', 'a-b', 'c'];
    for (const repo of repos) assert.equal((await putManifest(f, repo, 'v1', artifact(repo))).status, 201);
    const sorted = [...repos].sort((x, y) => Buffer.compare(utf8(x), utf8(y)));
    const all = await f.call('GET', '/v2/_catalog');
    assert.equal(all.status, 200, all.where);
    assert.deepEqual(all.json(), { repositories: sorted });
    const first = await f.call('GET', '/v2/_catalog?n=2');
    assert.deepEqual((first.json() as { repositories: string[] }).repositories, sorted.slice(0, 2));
    assert.equal(first.headers.link, `</v2/_catalog?n=2&last=${encodeURIComponent(sorted[1] ?? '')}>; rel="next"`);
    const second = await f.call('GET', `/v2/_catalog?n=2&last=${encodeURIComponent(sorted[1] ?? '')}`);
    assert.deepEqual((second.json() as { repositories: string[] }).repositories, sorted.slice(2, 4));
    const last = await f.call('GET', `/v2/_catalog?n=2&last=${encodeURIComponent(sorted[3] ?? '')}`);
    assert.deepEqual((last.json() as { repositories: string[] }).repositories, sorted.slice(4));
    assert.equal(last.headers.link, undefined);
    assertError(await f.call('GET', '/v2/_catalog?n=x'), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('referrers: empty index when none, descriptors with artifactType/annotations, artifactType filter', async (t) => {
    const f = await setup(t);
    const subjectBody = artifact('subject');
    const subjectDigest = sha256(subjectBody);
    assert.equal((await putManifest(f, 'r/ref', 'v1', subjectBody)).status, 201);

    const none = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}`);
    assert.equal(none.status, 200, none.where);
    assert.equal(none.headers['content-type'], OCI_INDEX);
    assert.deepEqual(none.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });

    const subject = { mediaType: OCI_MANIFEST, digest: subjectDigest, size: subjectBody.byteLength };
    const sig = artifact('sig', { artifactType: 'application/vnd.example.sig', subject, annotations: { k: 'sig' } });
    const sbom = artifact('sbom', { artifactType: 'application/vnd.example.sbom', subject, annotations: { k: 'sbom' } });
    for (const b of [sig, sbom]) {
      const r = await putManifest(f, 'r/ref', sha256(b), b);
      assert.equal(r.status, 201, r.where);
      assert.equal(r.headers['oci-subject'], subjectDigest);
    }
    const both = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}`);
    const list = (both.json() as { manifests: { digest: string; mediaType: string; size: number; artifactType?: string; annotations?: Record<string, string> }[] })
      .manifests;
    assert.deepEqual(
      [...list].sort((x, y) => x.digest.localeCompare(y.digest)),
      [
        { mediaType: OCI_MANIFEST, digest: sha256(sig), size: sig.byteLength, artifactType: 'application/vnd.example.sig', annotations: { k: 'sig' } },
        { mediaType: OCI_MANIFEST, digest: sha256(sbom), size: sbom.byteLength, artifactType: 'application/vnd.example.sbom', annotations: { k: 'sbom' } },
      ].sort((x, y) => x.digest.localeCompare(y.digest)),
    );
    assert.equal(both.headers['oci-filters-applied'], undefined);

    const filtered = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}?artifactType=${encodeURIComponent('application/vnd.example.sbom')}`);
    assert.equal(filtered.status, 200, filtered.where);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(
      (filtered.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest),
      [sha256(sbom)],
    );
    // Other repositories do not see them; malformed digests are refused.
    assert.deepEqual((await f.call('GET', `/v2/r/other/referrers/${subjectDigest}`)).json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    assertError(await f.call('GET', '/v2/r/ref/referrers/sha256:abc'), 400, 'DIGEST_INVALID');
  });
});

describe('unexpected errors from a port', () => {
  it('a metadata error becomes 500 UNKNOWN, and onError receives it', async (t) => {
    const boom = new Error('metadata store exploded');
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'getLinkedBlob', boom) });
    const r = await f.call('GET', `/v2/r/x/blobs/${sha256('x')}`);
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    const doc = r.json() as { errors: { code: string; message: string }[] };
    assert.equal(doc.errors[0]?.code, 'UNKNOWN');
    assert.ok(!JSON.stringify(doc).includes('exploded'), 'internal error text is not leaked to clients');
    assert.equal(f.errors.length, 1);
    assert.equal(f.errors[0]?.error, boom);
    assert.equal(f.errors[0]?.req.method, 'GET');
    assert.equal(f.errors[0]?.req.path, `/v2/r/x/blobs/${sha256('x')}`);
  });

  it('a HEAD that fails unexpectedly is a 500 without a body', async (t) => {
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'getTaggedManifest', new Error('boom')) });
    const r = await f.call('HEAD', '/v2/r/x/manifests/latest');
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.equal(r.body, undefined, 'HEAD responses carry no body');
    assert.equal(f.errors.length, 1);
  });

  it('a blob store error during commit becomes 500 UNKNOWN with onError, not an OCI error', async (t) => {
    const boom = new Error('disk on fire');
    const f = await setup(t, { wrapBlobs: (b) => failingMethod(b, 'commitUpload', boom) });
    const bytes = utf8('hello');
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: bytes });
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.deepEqual(
      f.errors.map((e) => e.error),
      [boom],
    );
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404, 'nothing recorded after the failed commit');
  });

  it('a non-Error thrown value is handled the same way', async (t) => {
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'listRepositories', 'just a string') });
    const r = await f.call('GET', '/v2/_catalog');
    assert.equal(r.status, 500, r.where);
    assert.equal(errorCodeOf(r), 'UNKNOWN');
    assert.deepEqual(
      f.errors.map((e) => e.error),
      ['just a string'],
    );
  });

  it('OCI errors are not reported to onError', async (t) => {
    const f = await setup(t);
    assert.equal((await f.call('GET', `/v2/r/x/blobs/${sha256('absent')}`)).status, 404);
    assert.equal((await f.call('GET', '/v2/r/x/manifests/BAD:REF')).status, 400);
    assert.equal((await f.call('GET', '/v2/NOPE/tags/list')).status, 400);
    assert.deepEqual(f.errors, []);
  });
});

describe('upload Locations across repositories', () => {
  it('an upload Location of repo A used under repo B is 404 BLOB_UPLOAD_UNKNOWN', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/a');
    const moved = loc.replace('/v2/r/a/', '/v2/r/b/');
    assert.notEqual(moved, loc);
    assertError(await f.call('GET', moved), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PATCH', moved, { body: utf8('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    const bare = new URL(moved, 'http://h').pathname;
    assertError(await f.call('GET', bare), 404, 'BLOB_UPLOAD_UNKNOWN');
    // The original still works and is untouched.
    const ok = await f.call('GET', loc);
    assert.equal(ok.status, 204, ok.where);
    assert.equal(ok.headers.range, '0-0');
  });

  it('a tampered _state is 400 BLOB_UPLOAD_INVALID', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/a');
    const u = new URL(loc, 'http://h');
    const state = u.searchParams.get('_state') ?? '';
    u.searchParams.set('_state', `${state.slice(0, -3)}AAA` === state ? `${state.slice(0, -3)}BBB` : `${state.slice(0, -3)}AAA`);
    assertError(await f.call('GET', `${u.pathname}${u.search}`), 400, 'BLOB_UPLOAD_INVALID');
  });
});
