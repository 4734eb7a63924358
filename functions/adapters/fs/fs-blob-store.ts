// Blob bytes as files: content-addressed under blobs/<alg>/<xx>/<hex>, uploads under uploads/<id>.
// Bytes are hashed as they stream to disk; a blob file appears (by atomic rename, after fsync) only
// once the core has verified its digest, so a crash never leaves a partial blob visible.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { digestAlgorithm } from '../../core/grammar.ts';
import { DigestMismatchError, StorageFullError, UploadConflictError, UploadGoneError, UploadSizeError, type BlobRecord, type BlobStore } from '../../core/ports.ts';
import type { GcBlobStore, StoredObject } from '../../core/gc-ports.ts';
import type { TokenSigner } from '../../core/tokens.ts';

const WRITE_CHUNK = 4 * 1024 * 1024;
/** What a blob location of this store looks like: content-addressed, or a later copy beside it. */
const BLOB_LOCATION = /^blobs\/[a-z0-9]+\/[0-9a-f]{2}\/[0-9a-f]+(\.[0-9a-f]{16})?$/;
/** The suffix naming a later copy (#install). */
const COPY = /^[0-9a-f]{16}$/;
/** While a large body streams in, start writeback every this many bytes so the final fsync is short. */
const SYNC_EVERY = 32 * 1024 * 1024;

interface CachedHash {
  hash: Hash;
  size: number;
}

export class FsBlobStore implements BlobStore, GcBlobStore {
  readonly minChunkLength = 5 * 1024 * 1024;
  readonly root: string;
  readonly #signer: TokenSigner;
  /** Running sha256 of uploads in progress; rebuilt from the file after a restart. */
  readonly #hashes = new Map<string, CachedHash>();
  /** Uploads a request is working on right now: one at a time per upload. */
  readonly #busy = new Set<string>();

  constructor(root: string, signer: TokenSigner) {
    this.root = root;
    this.#signer = signer;
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    await mkdir(join(this.root, 'blobs'), { recursive: true });
  }

  /** Where a blob's bytes live, relative to the root: `blobs/<alg>/<first two hex>/<hex>`. */
  blobLocation(digest: string): string {
    const [alg = '', hex = ''] = digest.split(':');
    return `blobs/${alg}/${hex.slice(0, 2)}/${hex}`;
  }

  /** The file of a blob: the content-addressed one, or its later copy `copy` (checked: 16 hex digits). */
  blobPath(digest: string, copy?: string): string {
    if (copy !== undefined && !COPY.test(copy)) throw new Error('not a copy of this store');
    return join(this.root, copy === undefined ? this.blobLocation(digest) : `${this.blobLocation(digest)}.${copy}`);
  }

  uploadPath(id: string): string {
    return join(this.root, 'uploads', id);
  }

  /** Upload ids and temp files on disk (for the start-up sweep of crash leftovers). */
  async listUploadFiles(): Promise<string[]> {
    return readdir(join(this.root, 'uploads'));
  }

  /** Whether a request is working on upload `id` right now (the sweeper leaves those alone). */
  isBusy(id: string): boolean {
    return this.#busy.has(id);
  }

  /** Runs `fn` as the only request working on upload `id`; a second one meanwhile is a conflict. */
  async #exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) throw new UploadConflictError();
    this.#busy.add(id);
    try {
      return await fn();
    } catch (e) {
      throw storageError(e);
    } finally {
      this.#busy.delete(id);
    }
  }

  async startUpload(id: string): Promise<string> {
    await writeFile(this.uploadPath(id), new Uint8Array(0), { flag: 'wx' }).catch((e: unknown) => {
      throw storageError(e);
    });
    this.#hashes.set(id, { hash: createHash('sha256'), size: 0 });
    return stateOf(0);
  }

  async appendUpload(id: string, offset: number, state: string, body: AsyncIterable<Uint8Array>, expectedLength?: number) {
    return this.#exclusive(id, async () => {
      const recorded = checkState(state, offset);
      const cached = await this.#hashAt(id, offset, recorded);
      const before = cached.hash.copy();
      let received: number;
      const file = await open(this.uploadPath(id), 'r+').catch(goneIfMissing);
      try {
        received = await writeHashed(file, offset, body, cached.hash, expectedLength);
        if (expectedLength !== undefined && received !== expectedLength) throw new UploadSizeError(expectedLength, received);
        await file.sync();
      } catch (e) {
        // Leave the upload exactly as it was before this request (if it was not cancelled meanwhile).
        await file.truncate(offset).catch(noop);
        cached.hash = before;
        cached.size = offset;
        throw e;
      } finally {
        await file.close();
      }
      cached.size = offset + received;
      return { offset: cached.size, state: recorded ? stateOf(cached.size) : state };
    });
  }

  /**
   * Verifies the digest from the running hash (sha256; sha512 re-reads the file once), then fsyncs
   * and renames the file into the content-addressed area. A second copy of an existing blob is
   * discarded and the existing location returned.
   */
  async finishUpload(id: string, size: number, state: string, digest: string): Promise<{ location: string }> {
    return this.#exclusive(id, async () => {
      const path = this.uploadPath(id);
      // Also brings the file back to `size` bytes when a crash left more behind.
      const cached = await this.#hashAt(id, size, checkState(state, size));
      const algorithm = digestAlgorithm(digest);
      const actual =
        algorithm === 'sha256'
          ? `sha256:${cached.hash.copy().digest('hex')}`
          : `${algorithm}:${(await hashPrefix(path, algorithm, size).catch(goneIfMissing)).digest('hex')}`;
      if (actual !== digest) {
        this.#hashes.delete(id);
        await rm(path, { force: true });
        throw new DigestMismatchError(digest, actual);
      }
      // Bytes below an upload's size never change, so the same size means the same (verified) bytes;
      // another size means a request appended after the digest was taken.
      if ((await sizeOf(path)) !== size) throw new UploadConflictError('upload changed since its digest was taken');
      this.#hashes.delete(id);
      return { location: await this.#install(path, this.blobLocation(digest)).catch(goneIfMissing) };
    });
  }

  async abortUpload(id: string): Promise<void> {
    this.#hashes.delete(id);
    await rm(this.uploadPath(id), { force: true });
  }

  /** Always writes its own copy (see #install): bytes seen in place may be a GC run's to delete. */
  async putBlob(digest: string, bytes: Uint8Array): Promise<string> {
    const tmp = join(this.root, 'uploads', `.put-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      await writeFile(tmp, bytes);
      return await this.#install(tmp, this.blobLocation(digest));
    } catch (e) {
      await rm(tmp, { force: true });
      throw storageError(e);
    }
  }

  /**
   * The local server's own signed path; blob-route.ts serves it. Signed with the blob URL keys only.
   * A record may name a later copy beside the content-addressed file (`<hex>.<copy>`, see #install:
   * when two uploads of one digest finish together, either may win): the URL then names that copy,
   * and the token binds it.
   */
  async readUrl(blob: BlobRecord, opts: { expiresInSeconds: number }): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + opts.expiresInSeconds;
    const base = this.blobLocation(blob.digest);
    const copy = blob.location.startsWith(`${base}.`) ? blob.location.slice(base.length + 1) : undefined;
    const token = this.#signer.sign(copy === undefined ? `blob|${blob.digest}` : `blob|${blob.digest}.${copy}`, exp);
    return `/_blobs/${blob.digest}?${copy === undefined ? '' : `copy=${copy}&`}token=${token}`;
  }

  /** Whether `token` grants reading `digest` (the check behind the signed URL), or its later copy `copy`. */
  verifyReadToken(digest: string, token: string | null, copy?: string): boolean {
    if (copy !== undefined) return COPY.test(copy) && token !== null && this.#signer.verify(token) === `blob|${digest}.${copy}`;
    return token !== null && this.#signer.verify(token) === `blob|${digest}`;
  }

  async deleteBlob(location: string): Promise<void> {
    // Only ever a path this store handed out: inside blobs/, no way up.
    if (!BLOB_LOCATION.test(location)) throw new Error(`not a blob location of this store: ${location.slice(0, 100)}`);
    await rm(join(this.root, location), { force: true });
  }

  /**
   * Moves a complete, fsynced file into the content-addressed area atomically, never over a file
   * that is there: a hard link at `location` (which fails if one exists), else a rename to a
   * location of its own beside it (`<hex>.<random>`), which the core deletes as a duplicate once the
   * earlier copy's record wins. So the bytes at a location are only ever the ones first put there,
   * and a GC run deleting an old copy never deletes a new one (docs/gc.md). Returns the location.
   */
  async #install(from: string, location: string): Promise<string> {
    let target = join(this.root, location);
    const dir = join(target, '..');
    await mkdir(dir, { recursive: true });
    const f = await open(from, 'r');
    try {
      await f.sync();
    } finally {
      await f.close();
    }
    try {
      await link(from, target);
      await rm(from, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      location = `${location}.${randomBytes(8).toString('hex')}`;
      target = join(this.root, location);
      await rename(from, target);
    }
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return location;
  }

  // Garbage collection (GcBlobStore).

  /** Files under blobs/, in path order; the cursor is the last location of the page. */
  async listStored(limit: number, cursor?: string): Promise<{ items: StoredObject[]; cursor?: string }> {
    const entries = await readdir(join(this.root, 'blobs'), { recursive: true, withFileTypes: true });
    const locations = entries.filter((e) => e.isFile()).map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((l) => BLOB_LOCATION.test(l) && (cursor === undefined || l > cursor)).sort();
    const page = locations.slice(0, Math.max(1, limit));
    const items: StoredObject[] = [];
    for (const location of page) {
      const st = await stat(join(this.root, location)).catch(() => undefined);
      if (st) items.push({ location, size: st.size, modifiedAt: st.mtimeMs });
    }
    return locations.length > page.length ? { items, cursor: page.at(-1)! } : { items };
  }

  /** Unlinks the file if its last write is no later than `notAfter` (#install never rewrites one). */
  async deleteStale(location: string, notAfter: number): Promise<number> {
    if (!BLOB_LOCATION.test(location)) return 0;
    const path = join(this.root, location);
    const st = await stat(path).catch(() => undefined);
    if (!st || st.mtimeMs > notAfter) return 0;
    await rm(path, { force: true });
    return st.size;
  }

  /** Upload files live outside blobs/: no stored location names a session. */
  uploadIdOf(): string | undefined {
    return undefined;
  }

  /** The running hash of the first `offset` bytes, rebuilt from disk when not cached (e.g. after a restart). */
  /**
   * The running hash of the first `offset` bytes. `recorded` says the caller works from a state that
   * names this size (the session's recorded state, under its lease): bytes beyond it were never
   * recorded (a request whose session update failed, a crash) and are cut off. Without it a request
   * from an older size must not cut off bytes another request added.
   */
  async #hashAt(id: string, offset: number, recorded = false): Promise<CachedHash> {
    const cached = this.#hashes.get(id);
    if (cached && cached.size === offset) return cached;
    if (cached && cached.size > offset && !recorded) throw new UploadConflictError('upload has moved on since this request read it');
    const path = this.uploadPath(id);
    const size = await sizeOf(path);
    // Fewer bytes than the session acknowledged can never be completed: the client must start over.
    if (size < offset) throw new UploadGoneError(`upload holds ${size} bytes, fewer than the ${offset} it acknowledged`);
    if (size > offset) await truncate(path, offset);
    const rebuilt = { hash: await hashPrefix(path, 'sha256', offset), size: offset };
    this.#hashes.set(id, rebuilt);
    return rebuilt;
  }
}

/**
 * The state of a file upload: the size it holds, as recorded with the session. Sessions from before
 * states were kept (state '') are still accepted, without the check.
 */
const stateOf = (size: number): string => `size:${size}`;

/** True when `state` names a size (which must be `size`); false for the legacy empty state. */
function checkState(state: string, size: number): boolean {
  if (state === '') return false;
  if (state !== stateOf(size)) throw new UploadConflictError(`upload state is ${JSON.stringify(state.slice(0, 40))}, not ${stateOf(size)}`);
  return true;
}

/**
 * Streams `body` into `file` at `position`, hashing every byte. Writes are batched to ~4 MiB and one
 * write is kept in flight while the next batch is read, so disk and network overlap.
 */
async function writeHashed(file: FileHandle, position: number, body: AsyncIterable<Uint8Array>, hash: Hash, expectedLength?: number): Promise<number> {
  let received = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let pending: Promise<unknown> = Promise.resolve();
  let syncing: Promise<unknown> = Promise.resolve();
  let unsynced = 0;
  const flush = async () => {
    const chunks = batch;
    const at = position + received - batchBytes;
    unsynced += batchBytes;
    batch = [];
    batchBytes = 0;
    await pending;
    // Each promise gets a handler at once: a failed write (a full disk) surfaces at the next await
    // here, never as an unhandled rejection while the loop waits for the network.
    pending = writeAll(file, chunks, at);
    pending.catch(noop);
    if (unsynced >= SYNC_EVERY) {
      unsynced = 0;
      // Overlap disk writeback with receiving; never more than one sync in flight.
      const previous = syncing;
      syncing = pending.then(() => previous).then(() => file.datasync());
      syncing.catch(noop);
    }
  };
  try {
    for await (const chunk of body) {
      received += chunk.byteLength;
      if (expectedLength !== undefined && received > expectedLength) throw new UploadSizeError(expectedLength, received);
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= WRITE_CHUNK) await flush();
    }
    if (batchBytes > 0) await flush();
  } finally {
    await Promise.allSettled([pending, syncing]);
  }
  await pending;
  await syncing;
  return received;
}

const noop = (): void => undefined;

/**
 * Writes every byte of `chunks` at `position`. A write may be short (a nearly full disk writes what
 * fits and reports no error); the rest is written again, which fails with ENOSPC if nothing fits.
 */
async function writeAll(file: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  let written = (await file.writev(chunks, position)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(chunks).subarray(written);
  let offset = 0;
  while (offset < rest.byteLength) {
    const { bytesWritten } = await file.write(rest, offset, rest.byteLength - offset, position + written);
    if (bytesWritten === 0) throw new StorageFullError('storage is full (a write made no progress)');
    offset += bytesWritten;
    written += bytesWritten;
  }
}

/** An upload file that is not there: the upload was completed or cancelled meanwhile. */
function goneIfMissing(e: unknown): never {
  throw (e as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? new UploadGoneError() : e;
}

/** A full disk or quota becomes the port's StorageFullError; anything else is left as it is. */
function storageError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new StorageFullError(`storage is full (${code})`) : e;
}

/** The size of an upload's file; UploadGoneError when it is gone (completed or cancelled). */
async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(goneIfMissing)).size;
}

/** A hash of the first `size` bytes of the file, left open for further updates. */
async function hashPrefix(path: string, algorithm: string, size: number): Promise<Hash> {
  const hash = createHash(algorithm);
  if (size > 0) {
    for await (const chunk of createReadStream(path, { end: size - 1, highWaterMark: WRITE_CHUNK })) hash.update(chunk as Buffer);
  }
  return hash;
}
