// Turns the bytes of one append request into S3 multipart parts and tail segments, in bounded memory.
//
// Rules that keep every part but the last at least 5 MiB, whatever the chunking:
// - bytes collect (after the pending tail of earlier requests) until `target + 5 MiB` are held, then
//   the first `target` bytes go up as a part, so at least 5 MiB always stay behind;
// - at the end of the request, 5 MiB or more go up as one more part; less becomes a new tail
//   segment object, read back (under 5 MiB) when the next part or the finished blob is written.
// So a blob sent in one request of 5 MiB or more has no tail at all: parts only.
// The first segment (offset 0) goes to the blob's final key itself, tagged pending, if no object is
// there yet: a blob sent in one request under 5 MiB is then committed by clearing that tag, with no
// read back and no copy. That key is never deleted by a writer (nor listed as junk): a later
// CompleteMultipartUpload or whole PutObject at finish replaces it, and the bucket lifecycle
// expires it while it is still tagged pending.
//
// Nothing of the input state is changed or deleted: a failed request leaves the previous state
// valid. Parts uploaded meanwhile are overwritten when a retry reuses their numbers (or dropped at
// completion, or aborted with the upload); segments written meanwhile expire with `uploads/`.
import { StorageFullError } from '../../core/ports.ts';
import { abortMultipart, createMultipart, deleteQuietly, MAX_PARTS, MIN_PART, partTarget, putObject, putPendingIfAbsent, readSegments, uploadPart, type Bucket } from './multipart.ts';
import { segmentKey } from './s3-keys.ts';
import { tailSize, type Segment, type UploadState } from './upload-state.ts';

export interface PartWriterOptions {
  bucket: Bucket;
  /** Upload session id. */
  id: string;
  /** Key the multipart upload writes (the blob's final location). */
  key: string;
  /** Part size for parts 1-1000 (grows after, see partTarget). */
  partSize: number;
  /** Bytes of parts in flight at once (at least one part is always allowed). */
  maxInFlightBytes: number;
  /** Tail segments kept before they are merged into one. */
  maxSegments: number;
}

export type WrittenState = Omit<UploadState, 'hashes'>;

export class PartWriter {
  readonly #o: PartWriterOptions;
  #multipartId: string | undefined;
  #creating: Promise<string> | undefined;
  /** Multipart upload created by this request (aborted if the request fails). */
  #created: string | undefined;
  readonly #parts: string[];
  #partCount: number;
  #partBytes: number;
  #tail: Segment[];
  #tailBytes: number;
  #tailRead: Promise<Buffer> | undefined;
  readonly #junk: string[] = [];
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #inFlightBytes = 0;
  #failure: { error: unknown } | undefined;
  /** Segments written by this request (deleted if the request fails). */
  readonly #written: string[] = [];

  constructor(o: PartWriterOptions, state: UploadState) {
    this.#o = o;
    this.#multipartId = state.multipartId;
    this.#parts = [...state.parts];
    this.#partCount = state.parts.length;
    this.#partBytes = state.partBytes;
    this.#tail = [...state.tail];
    this.#tailBytes = tailSize(state);
  }

  /** Takes `chunk` (kept by reference until its part is sent: the caller must not reuse it). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#throwIfFailed();
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    for (;;) {
      const target = partTarget(this.#partCount + 1, this.#o.partSize);
      if (this.#tailBytes + this.#pendingBytes < target + MIN_PART) break;
      await this.#sendPart(target);
    }
    if (this.#tailBytes + this.#pendingBytes >= MIN_PART) this.#startTailRead();
  }

  /** Sends what is left (a last part, or a new tail segment) and returns the new state (without hashes). */
  async end(): Promise<WrittenState> {
    await this.#drain();
    const held = this.#tailBytes + this.#pendingBytes;
    if (held >= MIN_PART) {
      await this.#sendPart(held);
      await this.#drain();
    } else if (this.#pendingBytes > 0) {
      await this.#writeSegment();
    }
    const state: WrittenState = { parts: this.#parts, partBytes: this.#partBytes, tail: this.#tail, junk: this.#junk };
    if (this.#multipartId !== undefined) state.multipartId = this.#multipartId;
    return state;
  }

  /** After a failure: waits for sends in flight, then removes what only this request referred to. */
  async discard(): Promise<void> {
    await Promise.allSettled([...this.#inFlight, this.#creating]);
    this.#tailRead?.catch(noop);
    await deleteQuietly(this.#o.bucket, this.#written);
    if (this.#created !== undefined) await abortMultipart(this.#o.bucket, this.#o.key, this.#created).catch(noop);
  }

  /** The tail's segments are no longer referenced: junk, except one at the final key (see the top). */
  #dropTail(): void {
    this.#junk.push(...this.#tail.map((s) => s.key).filter((k) => k !== this.#o.key));
    this.#tail = [];
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }

  #startTailRead(): void {
    if (this.#tail.length > 0 && !this.#tailRead) {
      this.#tailRead = readSegments(this.#o.bucket, this.#tail);
      this.#tailRead.catch(noop); // observed when the part is assembled
    }
  }

  /** Sends the tail plus the first `size - tail` pending bytes as the next part. */
  async #sendPart(size: number): Promise<void> {
    if (this.#partCount >= MAX_PARTS) throw new StorageFullError(`upload exceeds S3's ${MAX_PARTS} parts`);
    const pieces: Uint8Array[] = [];
    if (this.#tail.length > 0) {
      this.#startTailRead();
      pieces.push(await (this.#tailRead as Promise<Buffer>));
      this.#dropTail();
    }
    let need = size - this.#tailBytes;
    this.#tailBytes = 0;
    this.#tailRead = undefined;
    while (need > 0) {
      const head = this.#pending[0] as Uint8Array;
      if (head.length <= need) {
        pieces.push(head);
        this.#pending.shift();
        need -= head.length;
        this.#pendingBytes -= head.length;
      } else {
        pieces.push(head.subarray(0, need));
        this.#pending[0] = head.subarray(need);
        this.#pendingBytes -= need;
        need = 0;
      }
    }
    const buffer = takePartBuffer(size);
    const body = buffer.subarray(0, size);
    let at = 0;
    for (const piece of pieces) {
      body.set(piece, at);
      at += piece.length;
    }
    // As Buffer.concat did: never let bytes of an earlier part (maybe another upload's) through.
    if (at < size) body.fill(0, at);
    const partNumber = ++this.#partCount;
    this.#partBytes += size;
    // Bounded memory: wait for room before adding another part to those in flight.
    while (this.#inFlight.size > 0 && this.#inFlightBytes + size > this.#o.maxInFlightBytes) {
      await Promise.race(this.#inFlight);
    }
    this.#throwIfFailed();
    this.#inFlightBytes += size;
    const send = (async () => {
      const multipartId = await this.#ensureMultipart();
      this.#parts[partNumber - 1] = await uploadPart(this.#o.bucket, this.#o.key, multipartId, partNumber, body);
    })().then(
      () => undefined,
      (error: unknown) => {
        this.#failure ??= { error };
      },
    );
    const tracked = send.finally(() => {
      this.#inFlight.delete(tracked);
      this.#inFlightBytes -= size;
      // The SDK is done with the body (sent, or given up after its retries).
      givePartBuffer(buffer);
    });
    this.#inFlight.add(tracked);
  }

  async #ensureMultipart(): Promise<string> {
    if (this.#multipartId !== undefined) return this.#multipartId;
    this.#creating ??= createMultipart(this.#o.bucket, this.#o.key).then((id) => {
      this.#multipartId = id;
      this.#created = id;
      return id;
    });
    return this.#creating;
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    this.#throwIfFailed();
  }

  /** Keeps the pending bytes (under 5 MiB with the tail) as a new tail segment, merging if too many. */
  async #writeSegment(): Promise<void> {
    let start = this.#partBytes + this.#tailBytes;
    const pieces = this.#pending;
    if (this.#tail.length + 1 > this.#o.maxSegments) {
      this.#startTailRead();
      pieces.unshift(await (this.#tailRead as Promise<Buffer>));
      this.#dropTail();
      this.#tailRead = undefined;
      start = this.#partBytes;
    }
    const body = Buffer.concat(pieces);
    let key = this.#o.key;
    if (start !== 0 || !(await putPendingIfAbsent(this.#o.bucket, key, body))) {
      key = segmentKey(this.#o.id, start);
      this.#written.push(key);
      await putObject(this.#o.bucket, key, body);
    }
    this.#tail.push({ key, size: body.length });
    this.#tailBytes = start - this.#partBytes + body.length;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

function noop(): void {}

/**
 * Part buffers kept for reuse across requests of this process. A fresh 8 MiB allocation per part is
 * paged in by the kernel (faulted and zeroed) before the copy; in a CPU profile of ingest that cost
 * more than the running sha256. At most POOLED_PARTS buffers are kept (bounded memory).
 */
const POOLED_PARTS = 4;
const partPool: Buffer[] = [];

function takePartBuffer(size: number): Buffer {
  const i = partPool.findIndex((b) => b.length >= size);
  if (i >= 0) return partPool.splice(i, 1)[0]!;
  return Buffer.allocUnsafeSlow(size);
}

function givePartBuffer(buffer: Buffer): void {
  if (partPool.length < POOLED_PARTS) partPool.push(buffer);
}
