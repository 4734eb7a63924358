// BlobStore on S3. Upload bytes stream into a multipart upload whose key is the blob's final location
// (see keys.ts), so committing copies nothing. The upload state (parts, segments, and the digests of
// a blob that arrived in one request) travels with the session, so any Lambda or ingest task can take
// the next chunk; a blob sent in one request is checked without reading its bytes back, one sent in
// several is read back once at the end (running-hash.ts). See part-writer.ts for how chunks of any
// size become valid parts.
import type { S3Client } from '@aws-sdk/client-s3';
import { DigestMismatchError, StorageFullError, UploadConflictError, UploadGoneError, UploadSizeError, type BlobRecord, type BlobStore } from '../../core/ports.ts';
import type { GcBlobStore, StoredObject } from '../../core/gc-ports.ts';
import { contentKey, uploadBlobKey } from './s3-keys.ts';
import { abortMultipart, clearTags, completeMultipart, deleteObject, deleteQuietly, hashObject, MAX_PARTS, MiB, objectHead, putObject, readSegments, uploadPart, type Bucket } from './multipart.ts';
import { edgeUploadKey, EDGE_VERIFIED_ALGORITHMS } from './edge-upload-keys.ts';
import { PartWriter } from './part-writer.ts';
import { deleteStale, listStored, uploadIdOf } from './s3-gc.ts';
import { knownDigest, StreamDigests, VERIFIABLE } from './running-hash.ts';
import { createHash } from 'node:crypto';
import { parseState, serializeState, stateSize, type UploadState } from './upload-state.ts';
import { S3PresignedUrls, type UrlSigner } from './url-signer.ts';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Size of streamed parts 1-1000 (then doubling, see partTarget). Default 8 MiB; at least 5 MiB. */
  partSize?: number;
  /** Bytes of parts uploading at once per request. Default 16 MiB (two 8 MiB parts). */
  maxInFlightBytes?: number;
  /** Tail segments kept before merging them into one. Default 32. */
  maxSegments?: number;
  /** Signs read URLs; default S3 presigned GETs from `client`. */
  urlSigner?: UrlSigner;
}

export class S3BlobStore implements BlobStore, GcBlobStore {
  /** Chunks of 5 MiB or more become parts directly; smaller ones cost a segment write and a read back. */
  readonly minChunkLength = 5 * MiB;
  readonly #bucket: Bucket;
  readonly #partSize: number;
  readonly #maxInFlightBytes: number;
  readonly #maxSegments: number;
  readonly #urls: UrlSigner;

  constructor(o: S3BlobStoreOptions) {
    this.#bucket = { client: o.client, name: o.bucket };
    this.#partSize = Math.max(o.partSize ?? 8 * MiB, 5 * MiB);
    this.#maxInFlightBytes = o.maxInFlightBytes ?? 16 * MiB;
    this.#maxSegments = Math.max(o.maxSegments ?? 32, 1);
    this.#urls = o.urlSigner ?? new S3PresignedUrls(o.client, o.bucket);
  }

  /** No S3 call: the multipart upload starts with the first part. */
  async startUpload(id: string): Promise<string> {
    uploadBlobKey(id); // refuses an id that cannot name a key
    return serializeState({ hashes: new StreamDigests().result(), parts: [], partBytes: 0, tail: [], junk: [] });
  }

  async appendUpload(id: string, offset: number, stateText: string, body: AsyncIterable<Uint8Array>, expectedLength?: number) {
    const state = this.#stateAt(stateText, offset);
    // Only a request that starts the upload hashes: if it stays the only one, its digest is the
    // blob's. Bytes after it are verified when the upload finishes, by reading the blob back.
    const hash = offset === 0 ? new StreamDigests() : undefined;
    const writer = new PartWriter(
      { bucket: this.#bucket, id, key: uploadBlobKey(id), partSize: this.#partSize, maxInFlightBytes: this.#maxInFlightBytes, maxSegments: this.#maxSegments },
      state,
    );
    let received = 0;
    try {
      for await (const chunk of body) {
        if (chunk.length === 0) continue;
        received += chunk.length;
        if (expectedLength !== undefined && received > expectedLength) throw new UploadSizeError(expectedLength, received);
        hash?.update(chunk);
        await writer.write(chunk);
      }
      if (expectedLength !== undefined && received !== expectedLength) throw new UploadSizeError(expectedLength, received);
      const written = await writer.end();
      // The input state is the recorded one, so what it lists as junk is referenced by nothing. Deleted
      // after this request's own writes: s3rver removes a directory emptied by a delete, racing a put into it.
      await deleteQuietly(this.#bucket, state.junk);
      return { offset: offset + received, state: serializeState(hash ? { hashes: hash.result(), ...written } : written) };
    } catch (e) {
      await writer.discard();
      throw e;
    }
  }

  async finishUpload(id: string, size: number, stateText: string, digest: string): Promise<{ location: string }> {
    const state = this.#stateAt(stateText, size);
    const algorithm = digest.split(':', 1)[0] ?? '';
    const key = uploadBlobKey(id);
    // The stream's own digest answers when it is in the digest's algorithm (sha256: the common path);
    // a sha512 digest, or bytes that arrived in several requests, are verified by reading back.
    const known = state.hashes === undefined ? undefined : knownDigest(state.hashes, algorithm);
    if (state.hashes === undefined || (known === undefined && VERIFIABLE.has(algorithm))) {
      await this.#finishReadBack(id, key, state, algorithm, digest);
    } else {
      const sha256 = `sha256:${state.hashes.sha256}`;
      // An algorithm that cannot be verified: refused like a mismatch, naming the sha256.
      const actual = known ?? sha256;
      if (actual !== digest) {
        await this.#discard(id, state);
        throw new DigestMismatchError(digest, actual);
      }
      if (state.multipartId === undefined && state.tail.length === 1 && state.tail[0]?.key === key) {
        // One segment, written at the final key by the request that created it (If-None-Match): its
        // bytes are the ones hashed; committed by clearing the pending tag, no read back, no copy.
        await clearTags(this.#bucket, key);
      } else if (state.multipartId === undefined) {
        // Under 5 MiB, all in tail segments (or empty): written whole, and S3 checks the sha256 itself.
        await putObject(this.#bucket, key, await readSegments(this.#bucket, state.tail), base64Digest(sha256));
      } else {
        await this.#complete(key, state.multipartId, state);
      }
    }
    await deleteQuietly(this.#bucket, unreferenced(id, state));
    return { location: key };
  }

  /**
   * An upload whose bytes arrived in several requests, or a sha512 digest: the blob is assembled, then read back once and
   * hashed (natively) before anything names it; on a mismatch it is deleted. Under 5 MiB the segments
   * are read and hashed before the whole PutObject, whose sha256 S3 checks as well.
   */
  async #finishReadBack(id: string, key: string, state: UploadState, algorithm: string, digest: string): Promise<void> {
    const mismatch = async (actual: string): Promise<never> => {
      await this.#discard(id, state);
      throw new DigestMismatchError(digest, actual);
    };
    const sha256Of = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (state.multipartId === undefined) {
      const bytes = await readSegments(this.#bucket, state.tail);
      const sha256 = sha256Of(bytes);
      const actual = VERIFIABLE.has(algorithm) ? `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` : sha256;
      if (actual !== digest) await mismatch(actual);
      await putObject(this.#bucket, key, bytes, base64Digest(sha256));
      return;
    }
    await this.#complete(key, state.multipartId, state, true);
    const actual = await hashObject(this.#bucket, key, VERIFIABLE.has(algorithm) ? algorithm : 'sha256');
    if (actual !== digest) {
      await deleteObject(this.#bucket, key);
      await mismatch(actual);
    }
  }

  /**
   * Uploads the tail as the last part and completes the multipart upload. With `again`, an upload
   * completed by an earlier attempt whose read back failed counts as completed when its object has
   * the expected size (it is verified by the read back that follows).
   */
  async #complete(key: string, multipartId: string, state: UploadState, again = false): Promise<void> {
    const etags = [...state.parts];
    try {
      if (state.tail.length > 0) {
        if (etags.length >= MAX_PARTS) throw new StorageFullError(`upload exceeds S3's ${MAX_PARTS} parts`);
        const last = await readSegments(this.#bucket, state.tail);
        etags.push(await uploadPart(this.#bucket, key, multipartId, etags.length + 1, last));
      }
      await completeMultipart(this.#bucket, key, multipartId, etags);
    } catch (e) {
      if (again && e instanceof UploadGoneError && (await objectHead(this.#bucket, key))?.size === stateSize(state)) return;
      throw e;
    }
  }

  async abortUpload(id: string, stateText: string): Promise<void> {
    let state: UploadState;
    try {
      state = parseState(stateText);
    } catch {
      return; // nothing readable to discard; the lifecycle rules collect the rest
    }
    await this.#discard(id, state);
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<string> {
    const key = contentKey(digest);
    await putObject(this.#bucket, key, bytes, digest.startsWith('sha256:') ? base64Digest(digest) : undefined);
    return key;
  }

  readUrl(blob: BlobRecord, opts: { expiresInSeconds: number }): Promise<string> {
    return this.#urls.sign(blob.location, opts.expiresInSeconds);
  }

  async deleteBlob(location: string): Promise<void> {
    await deleteObject(this.#bucket, location);
  }

  /**
   * One HeadObject on the repository's edge-upload key (the edge wrote it; S3 verified its sha256).
   * The edge names the upload session in the object's metadata (`x-amz-meta-upload`).
   */
  async findRepoUpload(repo: string, digest: string): Promise<{ location: string; size: number; uploadId?: string } | undefined> {
    if (!EDGE_VERIFIED_ALGORITHMS.includes(digest.slice(0, digest.indexOf(':')))) return undefined;
    const location = edgeUploadKey(repo, digest);
    const head = await objectHead(this.#bucket, location);
    if (head === undefined) return undefined;
    const uploadId = head.metadata.upload;
    return { location, size: head.size, ...(uploadId && UPLOAD_ID.test(uploadId) ? { uploadId } : {}) };
  }

  // Garbage collection (s3-gc.ts).

  listStored(_limit: number, cursor?: string): Promise<{ items: StoredObject[]; cursor?: string }> {
    return listStored(this.#bucket, cursor);
  }
  deleteStale(location: string, notAfter: number): Promise<number> {
    return deleteStale(this.#bucket, location, notAfter);
  }
  uploadIdOf(location: string): string | undefined {
    return uploadIdOf(location);
  }

  #stateAt(stateText: string, size: number): UploadState {
    const state = parseState(stateText);
    const held = stateSize(state);
    if (held !== size) throw new UploadConflictError(`upload state holds ${held} bytes, not ${size}`);
    return state;
  }

  async #discard(id: string, state: UploadState): Promise<void> {
    if (state.multipartId !== undefined) await abortMultipart(this.#bucket, uploadBlobKey(id), state.multipartId);
    // A first segment at the final key goes too: this session will never commit it.
    await deleteQuietly(this.#bucket, [...state.tail.map((s) => s.key), ...state.junk]);
  }
}

/**
 * The state's segments and junk, to delete once the blob is committed: never the final key, where
 * the blob now is (a first segment there has been replaced, or is the blob itself).
 */
function unreferenced(id: string, state: UploadState): string[] {
  const key = uploadBlobKey(id);
  return [...state.tail.map((s) => s.key), ...state.junk].filter((k) => k !== key);
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function base64Digest(digest: string): string {
  return Buffer.from(digest.slice(digest.indexOf(':') + 1), 'hex').toString('base64');
}
