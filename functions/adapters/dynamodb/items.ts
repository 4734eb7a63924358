// Item shapes of the single table and their conversion to and from the port's records. Attribute
// names are short: they count towards every item's size (and so its read and write units).
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { BlobRecord, Descriptor, ManifestHead, ManifestRecord, TagState, UploadSession } from '../../core/ports.ts';
import { blobKey, linkKey, manifestKey, referrerKey, repoEntryKey, tagKey, uploadKey, type Key } from './keys.ts';

export type Item = Record<string, NativeAttributeValue>;

/** DynamoDB's item limit is 400 KB (names and values); keep a margin for attribute names and keys. */
const ITEM_BUDGET = 390_000;
/** Manifest bodies up to this size live in their manifest item; larger ones go to S3. */
export const MANIFEST_INLINE_MAX = 350 * 1024;
/** Manifest bodies up to this size are also copied into each tag item (GET by tag = one read). */
export const TAG_INLINE_MAX = 100 * 1024;

// ---- blobs and links

export function blobItem(key: Key, blob: BlobRecord): Item {
  return { ...key, digest: blob.digest, size: blob.size, loc: blob.location, created: blob.createdAt };
}
export const globalBlobItem = (blob: BlobRecord): Item => blobItem(blobKey(blob.digest), blob);
export const linkItem = (repo: string, blob: BlobRecord): Item => blobItem(linkKey(repo, blob.digest), blob);

export function toBlob(item: Item): BlobRecord {
  return { digest: item.digest as string, size: item.size as number, location: item.loc as string, createdAt: item.created as number };
}

/** A blob item as the low-level client returns it (e.g. with a ConditionalCheckFailedException). */
export function toBlobFromWire(item: Record<string, { S?: string; N?: string }>): BlobRecord | undefined {
  const digest = item.digest?.S, size = item.size?.N, loc = item.loc?.S, created = item.created?.N;
  if (digest === undefined || size === undefined || loc === undefined || created === undefined) return undefined;
  return { digest, size: Number(size), location: loc, createdAt: Number(created) };
}

// ---- repositories

export const repoEntryItem = (repo: string, now: number): Item => ({ ...repoEntryKey(repo), created: now });

// ---- manifests, tags, referrers

/**
 * Above this estimated size, a manifest's references and annotations (a 4 MiB index may list tens of
 * thousands of children) leave the item for an S3 object next to the body (`fieldsKey`).
 */
export const FIELDS_INLINE_MAX = 300_000;

/** What moves to S3 with a manifest whose references or annotations do not fit its item. */
export interface ManifestFields {
  blobs: string[];
  manifests: string[];
  annotations?: Record<string, string>;
}

/** Rough item size of a manifest record without its body: references, annotations, names. */
function overhead(m: ManifestRecord): number {
  let n = 512 + m.digest.length + m.mediaType.length + (m.subject?.length ?? 0) + (m.artifactType?.length ?? 0);
  for (const d of m.blobs) n += d.length + 3;
  for (const d of m.manifests) n += d.length + 3;
  if (m.annotations !== undefined) n += annotationsSize(m);
  return n;
}

const annotationsSize = (m: ManifestRecord) => (m.annotations === undefined ? 0 : Buffer.byteLength(JSON.stringify(m.annotations)));

export const fieldsInline = (m: ManifestRecord): boolean => overhead(m) <= FIELDS_INLINE_MAX;

export function inlineInManifest(m: ManifestRecord): boolean {
  return m.body.byteLength <= MANIFEST_INLINE_MAX && m.body.byteLength + overhead(m) <= ITEM_BUDGET;
}

/**
 * A full tag copy stays under 250 KB, so a put with 10 tags (10 copies + a <= 400 KB manifest item)
 * keeps within TransactWriteItems' 4 MB.
 */
const TAG_ITEM_BUDGET = 250_000;

export function inlineInTag(m: ManifestRecord): boolean {
  return m.body.byteLength <= TAG_INLINE_MAX && m.body.byteLength + overhead(m) <= TAG_ITEM_BUDGET;
}

export function fieldsOf(m: ManifestRecord): ManifestFields {
  return { blobs: m.blobs, manifests: m.manifests, ...(m.annotations === undefined ? {} : { annotations: m.annotations }) };
}

const headFields = (m: ManifestRecord): Item => ({ digest: m.digest, mt: m.mediaType, size: m.size, created: m.createdAt });

/** Everything of a manifest record but its body, as item attributes. */
function manifestFields(m: ManifestRecord): Item {
  const item: Item = { ...headFields(m), blobs: m.blobs, kids: m.manifests };
  if (m.subject !== undefined) item.subj = m.subject;
  if (m.artifactType !== undefined) item.at = m.artifactType;
  if (m.annotations !== undefined) item.ann = JSON.stringify(m.annotations);
  return item;
}

/**
 * The manifest item: body inline, or `bodyKey` naming its S3 object; references and annotations
 * inline, or `fieldsKey` naming theirs. `rev` counts tag changes.
 */
export function manifestItem(repo: string, m: ManifestRecord, bodyKey: string | undefined, fieldsKey: string | undefined): Item {
  const item: Item = { ...manifestKey(repo, m.digest), ...manifestFields(m), rev: 1 };
  if (fieldsKey !== undefined) {
    delete item.blobs;
    delete item.kids;
    delete item.ann;
    item.fieldsKey = fieldsKey;
  }
  if (bodyKey === undefined) item.body = m.body;
  else item.bodyKey = bodyKey;
  return item;
}

/**
 * The tag item: when the body is small, a full copy of the manifest (one read serves GET by tag);
 * else only digest, media type and size (HEAD by tag), and GET reads the manifest item. `tt`: when
 * the tag was pointed at this manifest; `pa` (written by recordPull): the last recorded pull.
 * Items written before tag times were recorded lack `tt`: their `created` (the manifest's) stands in.
 */
export function tagItem(repo: string, tag: string, m: ManifestRecord, taggedAt: number): Item {
  if (!inlineInTag(m)) return { ...tagKey(repo, tag), ...headFields(m), tt: taggedAt };
  return { ...tagKey(repo, tag), ...manifestFields(m), body: m.body, tt: taggedAt };
}

/** The tag as GC and retention see it. */
export function toTagState(item: Item): TagState {
  return { digest: item.digest as string, taggedAt: (item.tt ?? item.created) as number, ...(item.pa === undefined ? {} : { pulledAt: item.pa as number }) };
}

/** The referrer descriptor; annotations too large for it stay in the manifest's fields object. */
export function referrerItem(repo: string, subject: string, m: ManifestRecord, fieldsKey: string | undefined): Item {
  const item: Item = { ...referrerKey(repo, subject, m.digest), digest: m.digest, mt: m.mediaType, size: m.size };
  if (m.artifactType !== undefined) item.at = m.artifactType;
  if (m.annotations !== undefined) {
    if (fieldsKey !== undefined && annotationsSize(m) > FIELDS_INLINE_MAX) item.annKey = fieldsKey;
    else item.ann = JSON.stringify(m.annotations);
  }
  return item;
}

export function toHead(item: Item): ManifestHead {
  return { digest: item.digest as string, mediaType: item.mt as string, size: item.size as number };
}

/** A manifest record from a manifest or tag item, its body and (when kept in S3) its fields. */
export function toManifest(item: Item, body: Uint8Array, fields?: ManifestFields): ManifestRecord {
  const record: ManifestRecord = {
    ...toHead(item),
    body,
    blobs: fields?.blobs ?? (item.blobs as string[] | undefined) ?? [],
    manifests: fields?.manifests ?? (item.kids as string[] | undefined) ?? [],
    createdAt: item.created as number,
  };
  if (item.subj !== undefined) record.subject = item.subj as string;
  if (item.at !== undefined) record.artifactType = item.at as string;
  if (fields?.annotations !== undefined) record.annotations = fields.annotations;
  else if (item.ann !== undefined) record.annotations = JSON.parse(item.ann as string) as Record<string, string>;
  return record;
}

export function toDescriptor(item: Item, fields?: ManifestFields): Descriptor {
  const descriptor: Descriptor = { mediaType: item.mt as string, digest: item.digest as string, size: item.size as number };
  if (item.at !== undefined) descriptor.artifactType = item.at as string;
  if (fields?.annotations !== undefined) descriptor.annotations = fields.annotations;
  else if (item.ann !== undefined) descriptor.annotations = JSON.parse(item.ann as string) as Record<string, string>;
  return descriptor;
}

// ---- upload sessions

export function uploadItem(s: UploadSession): Item {
  const item: Item = {
    ...uploadKey(s.id), id: s.id, repo: s.repo, off: s.offset, state: s.state,
    created: s.createdAt, updated: s.updatedAt, expires: s.expiresAt, ttl: ttlSeconds(s.expiresAt),
  };
  if (s.lease !== undefined) {
    item.lh = s.lease.holder;
    item.lu = s.lease.until;
  }
  return item;
}

/** DynamoDB TTL wants epoch seconds; round up so the item never expires before the session does. */
export const ttlSeconds = (epochMs: number): number => Math.ceil(epochMs / 1000);

export function toUpload(item: Item): UploadSession {
  const s: UploadSession = {
    id: item.id as string, repo: item.repo as string, offset: item.off as number, state: item.state as string,
    createdAt: item.created as number, updatedAt: item.updated as number, expiresAt: item.expires as number,
  };
  if (item.lh !== undefined) s.lease = { holder: item.lh as string, until: item.lu as number };
  return s;
}
