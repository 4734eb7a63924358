// The S3 calls of an upload: multipart parts, tail segments, whole objects. Each maps "gone" errors to
// the port's UploadGoneError; nothing else is interpreted here.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { UploadGoneError } from '../../core/ports.ts';
import { goneIfMissing, isMissing, isUnsupported, s3ErrorName } from './s3-errors.ts';
import { PENDING_TAG } from './s3-keys.ts';
import type { Segment } from './upload-state.ts';

export const MiB = 1024 * 1024;
/** S3's minimum size of every part but the last. */
export const MIN_PART = 5 * MiB;
/** S3's part-count limit. */
export const MAX_PARTS = 10_000;
const CONTENT_TYPE = 'application/octet-stream';

export interface Bucket {
  client: S3Client;
  name: string;
}

/**
 * The size a streamed part is cut at: `base` for parts 1-1000, then doubling at parts 1001, 2001 and
 * 4001. With the default 8 MiB base that is 8 GiB in 8 MiB parts, and about 461 GiB in 10,000 parts,
 * while a part in memory stays at most 64 MiB (plus the 5 MiB held back, see PartWriter).
 */
export function partTarget(partNumber: number, base: number): number {
  if (partNumber <= 1000) return base;
  if (partNumber <= 2000) return base * 2;
  if (partNumber <= 4000) return base * 4;
  return base * 8;
}

export async function createMultipart(b: Bucket, key: string): Promise<string> {
  const res = await b.client.send(new CreateMultipartUploadCommand({ Bucket: b.name, Key: key, ContentType: CONTENT_TYPE }));
  if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return res.UploadId;
}

export async function uploadPart(b: Bucket, key: string, multipartId: string, partNumber: number, body: Uint8Array): Promise<string> {
  const command = new UploadPartCommand({ Bucket: b.name, Key: key, UploadId: multipartId, PartNumber: partNumber, Body: body, ContentLength: body.length });
  // The signature covers no payload hash: the SDK would otherwise sha256 every byte again to sign
  // it, and the bytes are verified by the upload's own digest (running-hash.ts or a read back).
  command.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'unsignedPartPayload' },
  );
  const res = await b.client.send(command).catch(goneIfMissing);
  if (!res.ETag) throw new Error('UploadPart returned no ETag');
  return res.ETag;
}

export async function completeMultipart(b: Bucket, key: string, multipartId: string, etags: string[]): Promise<void> {
  await b.client
    .send(
      new CompleteMultipartUploadCommand({
        Bucket: b.name,
        Key: key,
        UploadId: multipartId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    .catch((e: unknown) => {
      // A part no longer holds the bytes the state recorded (a writer whose lease had expired
      // overwrote it): the upload cannot be completed as recorded, and nothing wrong is committed.
      if (s3ErrorName(e) === 'InvalidPart') throw new UploadGoneError('an uploaded part no longer matches the upload state');
      goneIfMissing(e);
    });
}

/**
 * Aborts a multipart upload; a missing one is fine. An endpoint without Abort (s3rver answers 405)
 * leaves it to the bucket lifecycle, which aborts incomplete uploads after a day.
 */
export async function abortMultipart(b: Bucket, key: string, multipartId: string): Promise<void> {
  try {
    await b.client.send(new AbortMultipartUploadCommand({ Bucket: b.name, Key: key, UploadId: multipartId }));
  } catch (e) {
    if (!isMissing(e) && !isUnsupported(e)) throw e;
  }
}

/** Writes a whole object; with `sha256` (base64) S3 itself refuses bytes that do not match it. */
export async function putObject(b: Bucket, key: string, body: Uint8Array, sha256?: string): Promise<void> {
  await b.client.send(
    new PutObjectCommand({ Bucket: b.name, Key: key, Body: body, ContentLength: body.length, ContentType: CONTENT_TYPE, ChecksumSHA256: sha256 }),
  );
}

/**
 * Writes `body` at `key` tagged pending, only if no object is there yet (`If-None-Match: *`): false
 * when one is (412), or another conditional write to it is in flight (409). So a writer, however
 * late, never replaces what is at `key`. (s3rver ignores both the condition and the tag.)
 */
export async function putPendingIfAbsent(b: Bucket, key: string, body: Uint8Array): Promise<boolean> {
  try {
    await b.client.send(
      new PutObjectCommand({
        Bucket: b.name,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: CONTENT_TYPE,
        IfNoneMatch: '*',
        Tagging: `${PENDING_TAG.key}=${PENDING_TAG.value}`,
      }),
    );
    return true;
  } catch (e) {
    const name = s3ErrorName(e);
    if (name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') return false;
    throw e;
  }
}

/** Removes every tag of the object at `key` (one PutObjectTagging with no tags): it is no longer pending. */
export async function clearTags(b: Bucket, key: string): Promise<void> {
  await b.client.send(new PutObjectTaggingCommand({ Bucket: b.name, Key: key, Tagging: { TagSet: [] } })).catch(goneIfMissing);
}

/** The bytes of the tail segments, in order (under 5 MiB by construction). */
export async function readSegments(b: Bucket, segments: Segment[]): Promise<Buffer> {
  const parts = await Promise.all(
    segments.map(async (seg) => {
      const res = await b.client.send(new GetObjectCommand({ Bucket: b.name, Key: seg.key })).catch(goneIfMissing);
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      if (bytes.length !== seg.size) throw new UploadGoneError(`upload segment ${seg.key} holds ${bytes.length} bytes, not ${seg.size}`);
      return bytes;
    }),
  );
  return Buffer.concat(parts);
}

export async function deleteObject(b: Bucket, key: string): Promise<void> {
  await b.client.send(new DeleteObjectCommand({ Bucket: b.name, Key: key }));
}

/** Deletes objects nothing refers to any more; failures are left to the lifecycle expiry of `uploads/`. */
export async function deleteQuietly(b: Bucket, keys: string[]): Promise<void> {
  await Promise.allSettled(keys.map((key) => deleteObject(b, key)));
}

/** An object's size and user metadata (one HeadObject), or undefined when it does not exist. */
export async function objectHead(b: Bucket, key: string): Promise<{ size: number; metadata: Record<string, string> } | undefined> {
  try {
    const out = await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: key }));
    return { size: out.ContentLength ?? 0, metadata: out.Metadata ?? {} };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}


/** `<algorithm>:<hex>` of the object at `key`, streamed once through node:crypto (one GetObject). */
export async function hashObject(b: Bucket, key: string, algorithm: string): Promise<string> {
  const res = await b.client.send(new GetObjectCommand({ Bucket: b.name, Key: key })).catch(goneIfMissing);
  const hash = createHash(algorithm);
  if (res.Body) for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return `${algorithm}:${hash.digest('hex')}`;
}
