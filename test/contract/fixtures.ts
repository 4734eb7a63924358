// Records for the MetadataStore contract: manifests whose digest really is the sha256 of their body,
// blobs with made-up locations, upload sessions.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { BlobRecord, ManifestRecord, MetadataStore, UploadSession } from '../../functions/core/ports.ts';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from '../support/oci.ts';

export const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
export const randomDigest = (): string => sha256(randomBytes(32));

export function blob(digest = randomDigest(), location = `blobs/${randomUUID()}`): BlobRecord {
  return { digest, size: 1 + Math.floor(Math.random() * 1_000_000), location, createdAt: Date.now() };
}

/** Records a blob and links it, as the core does after an upload (the record first). */
export async function linked(store: MetadataStore, repo: string, b: BlobRecord = blob()): Promise<BlobRecord> {
  const stored = await store.putBlob(b);
  await store.linkBlob(repo, stored);
  return stored;
}

export interface ManifestOptions {
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Pad the body (inside an annotation) to about this many bytes. */
  bodySize?: number;
  /** An index (children) instead of an image manifest (blobs). */
  index?: boolean;
  /** Number of children of an index (default 2). */
  children?: number;
}

export function manifest(opts: ManifestOptions = {}): ManifestRecord {
  const blobs = opts.index ? [] : [randomDigest(), randomDigest(), randomDigest()];
  const children = opts.index ? Array.from({ length: opts.children ?? 2 }, () => randomDigest()) : [];
  const doc: Record<string, unknown> = opts.index
    ? { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((digest) => ({ mediaType: OCI_MANIFEST, digest, size: 500 })) }
    : {
        schemaVersion: 2, mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: blobs[0], size: 100 },
        layers: blobs.slice(1).map((digest) => ({ mediaType: OCI_LAYER_GZIP, digest, size: 1000 })),
      };
  if (opts.artifactType !== undefined) doc.artifactType = opts.artifactType;
  if (opts.subject !== undefined) doc.subject = { mediaType: OCI_MANIFEST, digest: opts.subject, size: 500 };
  const annotations = { ...opts.annotations, nonce: randomUUID() };
  let text = JSON.stringify({ ...doc, annotations });
  if (opts.bodySize !== undefined && opts.bodySize > text.length) {
    text = JSON.stringify({ ...doc, annotations: { ...annotations, pad: 'x'.repeat(opts.bodySize - text.length - 10) } });
  }
  const body = new TextEncoder().encode(text);
  const record: ManifestRecord = {
    digest: sha256(body), mediaType: opts.index ? OCI_INDEX : OCI_MANIFEST, size: body.byteLength, body,
    blobs, manifests: children, createdAt: Date.now(),
  };
  if (opts.subject !== undefined) record.subject = opts.subject;
  if (opts.artifactType !== undefined) record.artifactType = opts.artifactType;
  if (opts.annotations !== undefined) record.annotations = opts.annotations;
  return record;
}

export function session(repo: string, overrides: Partial<UploadSession> = {}): UploadSession {
  const now = Date.now();
  return {
    id: randomUUID(), repo, offset: 0, state: JSON.stringify({ h: randomUUID() }),
    createdAt: now, updatedAt: now, expiresAt: now + 3_600_000, ...overrides,
  };
}

/** Byte-order comparison of strings (as DynamoDB and SQLite BINARY order keys). */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
