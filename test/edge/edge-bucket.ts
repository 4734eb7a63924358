// A registry on the real local adapters (SQLite in memory, files in a temp dir) whose blob store also
// holds a bucket of edge uploads, standing in for S3 behind CloudFront: `edgePut` stores bytes under
// blobs/r/<repo>/sha256/<hex> only when they match the digest (as S3 does with x-amz-checksum-sha256)
// and returns the ObjectCreated event S3 would send; findRepoUpload answers from that bucket (one
// lookup of the repository's own key, as the S3 store's HeadObject does).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { FsBlobStore } from '../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { allowAll, type Authorizer } from '../../functions/core/access.ts';
import { edgeUploadKey, EDGE_UPLOAD_PREFIX } from '../../functions/adapters/s3/edge-upload-keys.ts';
import type { RegistryResponse } from '../../functions/core/http.ts';
import type { BlobRecord, BlobStore } from '../../functions/core/ports.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';

export const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The local blob store plus an in-memory bucket of edge uploads. */
export class EdgeBucketStore implements BlobStore {
  readonly inner: FsBlobStore;
  readonly objects = new Map<string, Buffer>();
  readonly deleted: string[] = [];
  lookups = 0;

  constructor(inner: FsBlobStore) {
    this.inner = inner;
  }

  get minChunkLength(): number {
    return this.inner.minChunkLength;
  }
  startUpload: BlobStore['startUpload'] = (id) => this.inner.startUpload(id);
  appendUpload: BlobStore['appendUpload'] = (...a) => this.inner.appendUpload(...a);
  finishUpload: BlobStore['finishUpload'] = (...a) => this.inner.finishUpload(...a);
  abortUpload: BlobStore['abortUpload'] = (id) => this.inner.abortUpload(id);
  putBlob: BlobStore['putBlob'] = (...a) => this.inner.putBlob(...a);

  async readUrl(blob: BlobRecord, opts: { expiresInSeconds: number }): Promise<string> {
    return blob.location.startsWith(EDGE_UPLOAD_PREFIX) ? `https://bucket.example/${blob.location}` : this.inner.readUrl(blob, opts);
  }

  async deleteBlob(location: string): Promise<void> {
    if (!location.startsWith(EDGE_UPLOAD_PREFIX)) return this.inner.deleteBlob(location);
    this.deleted.push(location);
    this.objects.delete(location);
  }

  /** The upload session the edge named in each object's metadata (x-amz-meta-upload), when it did. */
  readonly sessions = new Map<string, string>();

  async findRepoUpload(repo: string, digest: string): Promise<{ location: string; size: number; uploadId?: string } | undefined> {
    this.lookups += 1;
    const key = edgeUploadKey(repo, digest);
    const bytes = this.objects.get(key);
    const uploadId = this.sessions.get(key);
    return bytes === undefined ? undefined : { location: key, size: bytes.length, ...(uploadId ? { uploadId } : {}) };
  }

  /**
   * The edge's PUT into S3: refused (BadDigest) unless the bytes match; returns S3's ObjectCreated
   * event. `uploadId`: the session whose token the edge accepted (the object's metadata names it).
   */
  edgePut(repo: string, bytes: Buffer, digest = sha256(bytes), uploadId?: string): S3Event {
    if (sha256(bytes) !== digest) throw new Error('BadDigest: the SHA256 you specified did not match the calculated checksum');
    const key = edgeUploadKey(repo, digest);
    this.objects.set(key, bytes);
    if (uploadId === undefined) this.sessions.delete(key);
    else this.sessions.set(key, uploadId);
    return s3Event([{ key, size: bytes.length }]);
  }
}

export function s3Event(records: { key: string; size: number; eventName?: string; encode?: boolean }[]): S3Event {
  return {
    Records: records.map((r, i) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName: r.eventName ?? 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:CLOUDFRONT' },
      requestParameters: { sourceIPAddress: '192.0.2.1' },
      responseElements: { 'x-amz-request-id': `R${i}`, 'x-amz-id-2': `I${i}` },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'edge-uploads',
        bucket: { name: 'registry-blobs', ownerIdentity: { principalId: 'OWNER' }, arn: 'arn:aws:s3:::registry-blobs' },
        object: { key: r.encode ? encodeURIComponent(r.key) : r.key, size: r.size, eTag: 'e', sequencer: `00${i}` },
      },
    })),
  };
}

export interface EdgeRegistry {
  registry: Registry;
  metadata: SqliteMetadataStore;
  blobs: EdgeBucketStore;
  /** PUT /v2/<repo>/manifests/<tag> with an OCI image manifest; `tenant` sets the x-tenant header. */
  putManifest(repo: string, tag: string, body: Buffer, tenant?: string): Promise<RegistryResponse>;
  request(method: string, path: string, opts?: { query?: string; headers?: Record<string, string>; body?: Buffer }): Promise<RegistryResponse>;
  close(): Promise<void>;
}

/** Tenants: the `x-tenant` header names the principal, which may act on `<tenant>/...` repositories only. */
export const tenantAuthorizer: Authorizer = {
  async authorize(req, required) {
    const tenant = req.headers['x-tenant'];
    if (tenant === undefined) return { allowed: true, principal: { subject: '*' } };
    const ok = required.every((a) => a.type === 'repository' && a.name.startsWith(`${tenant}/`));
    return ok ? { allowed: true, principal: { subject: tenant } } : { allowed: false, status: 403 };
  },
  async can(principal, access) {
    return principal.subject === '*' || (access.type === 'repository' && access.name.startsWith(`${principal.subject}/`));
  },
};

export async function edgeRegistry(authorizer: Authorizer = allowAll): Promise<EdgeRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-bucket-'));
  const signer = new TokenSigner(randomBytes(32));
  const fs = new FsBlobStore(dir, signer);
  await fs.init();
  const metadata = new SqliteMetadataStore(':memory:');
  const blobs = new EdgeBucketStore(fs);
  const registry = createRegistry({ metadata, blobs, authorizer, uploadTokens: signer });
  const request: EdgeRegistry['request'] = (method, path, opts = {}) =>
    registry({
      method,
      path,
      query: new URLSearchParams(opts.query ?? ''),
      headers: { ...(opts.body ? { 'content-length': String(opts.body.length) } : {}), ...opts.headers },
      ...(opts.body ? { body: (async function* () { yield opts.body!; })() } : {}),
    });
  return {
    registry,
    metadata,
    blobs,
    request,
    putManifest: (repo, tag, body, tenant) =>
      request('PUT', `/v2/${repo}/manifests/${tag}`, { body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', ...(tenant ? { 'x-tenant': tenant } : {}) } }),
    async close() {
      metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An OCI image manifest referencing `config` and `layers` (digest and size of each). */
export function imageManifest(config: Buffer, layers: Buffer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
    }),
  );
}
