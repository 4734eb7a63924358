// The registry core on either backend, with what a GC test needs beside it: the GC deps, and the bytes
// in storage. `local`: SQLite (a file, as `npm start`) + files; `aws`: DynamoDB Local + s3rver.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FsBlobStore } from '../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { DynamoMetadataStore } from '../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { S3BlobStore } from '../../functions/adapters/s3/s3-blob-store.ts';
import { S3ManifestBodyStore } from '../../functions/adapters/s3/manifest-bodies.ts';
import { allowAll } from '../../functions/core/access.ts';
import type { GcDeps } from '../../functions/core/gc/run.ts';
import type { RegistryRequest, RegistryResponse } from '../../functions/core/http.ts';
import type { BlobStore, MetadataStore } from '../../functions/core/ports.ts';
import type { GcBlobStore, GcMetadataStore, StoredObject } from '../../functions/core/gc-ports.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import type { RegistryError } from '../../functions/core/errors.ts';
import { classifyAwsError } from '../../functions/aws/errors.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { startDynamoLocal, type DynamoLocal } from './dynamodb-local.ts';
import { keepS3rverDirectories, startLocalS3, type LocalS3 } from './s3-local.ts';

export type BackendName = 'local' | 'aws';

export interface GcBackend {
  name: BackendName;
  registry: Registry;
  /** The errors behind this registry's 500s (method, path, error), for a failing test to show. */
  errors: string[];
  metadata: MetadataStore & GcMetadataStore;
  blobs: BlobStore & GcBlobStore;
  gc: GcDeps;
  /** The bytes at a storage location. */
  read(location: string): Promise<Buffer>;
  /** Everything in storage (blobs and manifest bodies). */
  stored(): Promise<StoredObject[]>;
  /** aws: the bucket and its client (the GC Lambda keeps its runs there too), and the table. */
  s3?: { client: S3Client; bucket: string; table: string };
  close(): Promise<void>;
}

/** Shared services of the aws backend (one DynamoDB Local and one s3rver per test file). */
export interface AwsServices {
  dynamo: DynamoLocal;
  s3: LocalS3;
  stop(): Promise<void>;
}

export async function startAwsServices(): Promise<AwsServices> {
  const [dynamo, s3] = await Promise.all([startDynamoLocal(), startLocalS3(`gc-${randomBytes(4).toString('hex')}`)]);
  return { dynamo, s3, stop: async () => void (await Promise.all([dynamo.stop(), s3.stop()])) };
}

/** The registry over these stores; the aws backend classifies errors as the deployment does (aws/errors.ts: contention and throttling are 429 with Retry-After). */
function wire(metadata: MetadataStore, blobs: BlobStore, now: () => number, errors: string[], classifyError?: (e: unknown) => RegistryError | undefined): Registry {
  const onError = (e: unknown, req: { method: string; path: string }): void => {
    errors.push(`${req.method} ${req.path}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
  return createRegistry({ metadata, blobs, authorizer: allowAll, uploadTokens: new TokenSigner(randomBytes(32)), now, onError, ...(classifyError ? { classifyError } : {}) });
}

async function allStored(blobs: GcBlobStore): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let cursor: string | undefined;
  do {
    const page = await blobs.listStored(500, cursor);
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** `now`: the clock of the registry core and of GC (tag times, pulls, a run's start); the stores keep the real one. */
export async function openBackend(name: BackendName, aws?: AwsServices, now: () => number = Date.now): Promise<GcBackend> {
  const errors: string[] = [];
  if (name === 'local') {
    const dir = await mkdtemp(join(tmpdir(), 'gc-local-'));
    const metadata = new SqliteMetadataStore(join(dir, 'registry.db'));
    const blobs = new FsBlobStore(dir, new TokenSigner(randomBytes(32)));
    await blobs.init();
    return {
      name, metadata, blobs, registry: wire(metadata, blobs, now, errors), errors, gc: { metadata, blobs, now },
      read: (location) => readFile(join(dir, location)),
      stored: () => allStored(blobs),
      close: async () => {
        metadata.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  if (!aws) throw new Error('the aws backend needs its services');
  // A bucket per backend: listing the bucket is part of what GC does.
  const bucket = `gc-${randomBytes(6).toString('hex')}`;
  const s3client = aws.s3.client();
  await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
  await keepS3rverDirectories(aws.s3.endpoint, bucket);
  const tableName = await aws.dynamo.createTable();
  const metadata = new DynamoMetadataStore({ client: aws.dynamo.client(), tableName, bodies: new S3ManifestBodyStore(s3client, bucket) });
  const blobs = new S3BlobStore({ client: s3client, bucket });
  return {
    name, metadata, blobs, registry: wire(metadata, blobs, now, errors, (e) => classifyAwsError(e)), errors, gc: { metadata, blobs, now },
    read: async (location) => {
      const out = await s3client.send(new GetObjectCommand({ Bucket: bucket, Key: location }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    stored: () => allStored(blobs),
    s3: { client: s3client, bucket, table: tableName },
    close: async () => undefined,
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/** One request through the core (no HTTP). */
export async function call(registry: Registry, method: string, url: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(url, 'http://registry.invalid');
  const h: Record<string, string> = { ...headers };
  if (body) h['content-length'] = String(body.byteLength);
  async function* one() {
    if (body) yield body;
  }
  const req: RegistryRequest = { method, path: u.pathname, query: u.searchParams, headers: h, ...(body ? { body: one() } : {}) };
  const res: RegistryResponse = await registry(req);
  const chunks: Uint8Array[] = [];
  if (typeof res.body === 'string') chunks.push(Buffer.from(res.body));
  else if (res.body instanceof Uint8Array) chunks.push(res.body);
  else if (res.body) for await (const c of res.body) chunks.push(c);
  const buf = Buffer.concat(chunks);
  return { status: res.status, headers: res.headers, body: buf, text: buf.toString('utf8') };
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes an image (a config and the given layers) through the core and tags it; its manifest digest. */
export async function pushImage(registry: Registry, repo: string, tag: string, layers: Buffer[]): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: sha256(b), size: b.length });
  for (const b of [config, ...layers]) {
    const r = await call(registry, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(b)}`, b);
    if (r.status !== 201) throw new Error(`blob upload: ${r.status} ${r.text}`);
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: desc('application/vnd.oci.image.config.v1+json', config),
    layers: layers.map((l) => desc('application/vnd.oci.image.layer.v1.tar+gzip', l)),
  }));
  const r = await call(registry, 'PUT', `/v2/${repo}/manifests/${tag}`, manifest, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
  if (r.status !== 201) throw new Error(`manifest PUT: ${r.status} ${r.text}`);
  return sha256(manifest);
}
