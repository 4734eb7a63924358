// The two storage ports the core depends on. Shaped for DynamoDB + S3 (single-item conditional
// writes, small transactions, key-ordered queries, no scans on hot paths); SQLite + files fit too.
import type { AuditEntry } from './audit.ts';
import type { ProjectUsage, RepositorySize } from './quota-ports.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Record<string, unknown>;
}

/** What HEAD and reference checks need of a manifest: no body. */
export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** A stored manifest, byte-exact. */
export interface ManifestRecord extends ManifestHead {
  body: Uint8Array;
  /** Digest of the manifest this one refers to (OCI `subject`), if any. */
  subject?: string;
  /** Effective artifact type: `artifactType`, else the config media type (image manifests). */
  artifactType?: string;
  annotations?: Record<string, string>;
  /** Blob digests this manifest references (config + layers). */
  blobs: string[];
  /** Child manifest digests (index / manifest list). */
  manifests: string[];
  createdAt: number;
}

/** A verified blob and where its bytes live. */
export interface BlobRecord {
  digest: string;
  size: number;
  /**
   * Opaque storage location chosen by the BlobStore that holds the bytes (a file path below the data
   * directory, an S3 object key). Bytes verified elsewhere (an edge PUT straight into S3) are
   * recorded with the location they were written to.
   */
  location: string;
  createdAt: number;
}

export interface UploadLease {
  /** Who holds the lease: one request, on one Lambda or ingest task. */
  holder: string;
  /** Epoch ms after which the lease is void (a crashed holder cannot wedge the session). */
  until: number;
}

export interface UploadSession {
  id: string;
  repo: string;
  /** Bytes received so far. */
  offset: number;
  /**
   * Opaque, serializable blob-store state (saved hash state, multipart upload id and parts). Any
   * process can take the next chunk from it: nothing of an upload lives only in one process's memory.
   */
  state: string;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms after which the session is gone (DynamoDB TTL, the local sweeper). */
  expiresAt: number;
  /** The write lease of the request working on the session, if any. */
  lease?: UploadLease;
}

export interface Page<T> {
  items: T[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

/** One batch read of what a manifest references, keyed by digest. */
export interface References {
  /** Blobs linked into the repository. */
  blobs: Map<string, BlobRecord>;
  /** Manifests stored in the repository. */
  manifests: Map<string, ManifestHead>;
  /**
   * When getReferences was told which manifest PUT follows: what that putManifest needs to read,
   * read in the same batch (opaque; pass it to putManifest). Absent when the store reads nothing ahead.
   */
  prepared?: unknown;
  /**
   * Digests among those asked whose link or manifest carries a garbage-collection mark (condemned by
   * a GC run, deleted by a later one unless revived: revive() in functions/core/handlers/manifests.ts). Absent when none.
   */
  marked?: Set<string>;
}

/** The manifest PUT that follows a getReferences call: its digest and the tags it sets. */
export interface ManifestPutIntent {
  digest: string;
  tags: string[];
}

export interface MetadataStore {
  // Upload sessions.
  createUpload(session: UploadSession): Promise<void>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /**
   * Takes the session's write lease before any byte is written: applies only if the session exists
   * and is unexpired, its stored offset equals `expectedOffset`, and no unexpired lease
   * (`until` > now) is held by another holder. The same holder calling again renews its lease.
   * One conditional write. False when another request holds it or the session moved on or is gone.
   */
  leaseUpload(id: string, expectedOffset: number, lease: UploadLease, now: number): Promise<boolean>;
  /**
   * Optional: reads the session and takes its lease in one conditional write (a store that can, e.g.
   * DynamoDB's UpdateItem with ReturnValues). Returns the session as leased; `{ busyAt }` (its
   * recorded size) when another request holds a live lease; undefined when it is absent or expired.
   * Without it the core reads (getUpload) and then leases (leaseUpload).
   */
  takeUpload?(id: string, lease: UploadLease, now: number): Promise<UploadSession | { busyAt: number } | undefined>;
  /**
   * Records the new size and state and releases the lease, in one conditional write that applies
   * only while `holder` holds the lease. False otherwise (the lease expired and another took it).
   */
  updateUpload(id: string, holder: string, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean>;
  /**
   * Optional: takes the session out of the store for the request that finishes it (a store that can
   * delete and return an item in one conditional write, e.g. DynamoDB's DeleteItem with ReturnValues).
   * The same conditions and answers as takeUpload; the session returned carries no lease. A failed
   * finish puts it back with createUpload. Without it the core leases the session and deletes it
   * once the blob is recorded.
   */
  claimUpload?(id: string, now: number): Promise<UploadSession | { busyAt: number } | undefined>;
  /** Releases the lease, leaving the session as it was (a failed request). No-op if not held. */
  releaseUpload(id: string, holder: string): Promise<void>;
  deleteUpload(id: string): Promise<boolean>;

  // Blobs: one global record per digest, and per-repository links (a repo reads a blob only via a link).
  /**
   * Records a verified blob; the first writer wins. Returns the record that is stored: `blob` itself
   * when it was first, else the earlier one (whose location the caller must use; it then deletes
   * its own duplicate bytes).
   */
  putBlob(blob: BlobRecord): Promise<BlobRecord>;
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /**
   * Optional: putBlob, then linkBlob of the record that is stored, in one round trip where the store
   * can (a transaction). Returns the record that is stored.
   */
  recordBlob?(repo: string, blob: BlobRecord, quota?: number): Promise<BlobRecord>;
  /**
   * Optional: deleteUpload(uploadId), then recordBlob, in one atomic write, so that a session ended
   * means its upload recorded and linked (a store without it ends the session first, and a recorder
   * that fails in between leaves the upload to the next request that needs it). Returns the record
   * that is stored; undefined when the session was not there (ended already, or expired): then
   * nothing is written.
   */
  recordUpload?(repo: string, blob: BlobRecord, uploadId: string, quota?: number): Promise<BlobRecord | undefined>;
  /**
   * Optional, with recordUpload: reads in one round trip what recording uploads of `digests` into
   * `repo` needs (their blob records, the repository's catalog entry), kept for the recordUpload
   * calls that follow, and returns the links of those digests that are there already.
   */
  prepareUploads?(repo: string, digests: string[]): Promise<Map<string, BlobRecord>>;
  /**
   * Links the blob into the repository (registering the repository if new, without rewriting an
   * existing repository entry). The link carries size and location, so a read is one lookup.
   *
   * Storage quotas (docs/quotas.md): every link write counts the blob in its project's usage when no
   * other repository of the project links it (recordBlob and recordUpload too). With `quota` (the
   * project's limit in bytes) a write that would count the blob beyond it writes nothing and throws
   * QuotaExceededError, checked in the same atomic write (racing pushes cannot both slip by).
   */
  linkBlob(repo: string, blob: BlobRecord, quota?: number): Promise<void>;
  /** The blob as visible from the repository (link present), or undefined. */
  getLinkedBlob(repo: string, digest: string): Promise<BlobRecord | undefined>;
  unlinkBlob(repo: string, digest: string): Promise<boolean>;
  /**
   * Storage used by a project: the distinct blobs linked into any of its repositories (a blob two of
   * its repositories link counts once). With `digest`: whether that blob is among them.
   */
  projectUsage(project: string, digest?: string): Promise<ProjectUsage>;
  /**
   * Optional: the distinct blobs `repo` links and their summed size (a blob other repositories link
   * counts in each), from at most `maxLinks` links read; `complete` is false when there were more.
   * Without it a repository's size is unknown (null in the management API).
   */
  repositorySize?(repo: string, maxLinks: number): Promise<RepositorySize>;

  // Manifests and tags.
  getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined>;
  /** The manifest a tag points at; one lookup when the manifest is small. With the tag's last recorded pull. */
  getTaggedManifest(repo: string, tag: string): Promise<(ManifestRecord & TagUse) | undefined>;
  /** Digest, media type and size of a manifest by tag or digest, without reading a large body (by tag: with its last recorded pull). */
  headManifest(repo: string, ref: { tag: string } | { digest: string }): Promise<(ManifestHead & TagUse) | undefined>;
  /**
   * Records a pull of `repo:tag` at `at` (epoch ms), in one conditional write that applies only while
   * the tag points at `digest` and its recorded pull is from an earlier UTC day (or none): at most one
   * write per tag per day (functions/core/pulls.ts). True when written.
   */
  recordPull(repo: string, tag: string, digest: string, at: number): Promise<boolean>;
  /**
   * For each digest, the blob linked into `repo` and/or the manifest stored in `repo` under it, in
   * one batch read (at most 100 digests per call: the caller splits larger sets). With `intent`, the
   * store may also read what putManifest(intent) will need, in the same round trip (`prepared`); the
   * caller then keeps the batch to 44 digests.
   */
  getReferences(repo: string, digests: string[], intent?: ManifestPutIntent): Promise<References>;
  /**
   * Atomically stores the manifest (idempotent for the same digest), its referrer entry when it has a
   * subject, the repository, and points every tag in `tags` at it (at most 10 tags). `prepared`: what
   * getReferences read for this put (see References.prepared); the store may rely on it for its
   * first attempt instead of reading again (its writes stay conditional on what it saw). A tag it
   * creates or moves gets `manifest.createdAt` (the put's time) as its tag time and no pull record.
   */
  putManifest(repo: string, manifest: ManifestRecord, tags: string[], prepared?: unknown, opts?: PutManifestOptions): Promise<PutManifestResult>;
  /** Deletes the manifest, every tag pointing at it and its referrer entry, without a scan. False if absent. */
  deleteManifest(repo: string, digest: string): Promise<boolean>;
  /**
   * Deletes the tag (false if absent). With `expect`, only while the tag is exactly as a reader saw it
   * (digest, tag time, last pull): a retention rule's delete loses to a push or pull that came after
   * its decision (functions/core/gc/retention.ts).
   */
  deleteTag(repo: string, tag: string, expect?: TagState): Promise<boolean>;
  /** Tags in lexical (byte) order, strictly after `last`. */
  listTags(repo: string, limit: number, last?: string): Promise<Page<string>>;
  /** Descriptors of manifests in `repo` whose subject is `subject`, ordered by digest, strictly after `last`. */
  listReferrers(repo: string, subject: string, limit: number, last?: string): Promise<Page<Descriptor>>;

  /**
   * Removes the garbage-collection mark of an item (a push that needs it again), in one conditional
   * write that applies only when the item exists. True when the item exists (marked or not).
   */
  gcUnmark(target: GcTarget): Promise<boolean>;

  // Repositories.
  repositoryExists(repo: string): Promise<boolean>;
  /** Repository names in lexical (byte) order, strictly after `last`. */
  listRepositories(limit: number, last?: string): Promise<Page<string>>;
}

// Garbage collection (functions/core/gc, docs/gc.md; a GC run's own ports are in gc-ports.ts). An item GC finds unneeded is first marked
// (condemned) with the run's start time; a later run deletes it only if it is still unneeded and its
// mark is the one that run saw. Every write path that needs a marked item again removes the mark
// (putBlob, linkBlob, putManifest, gcUnmark), which makes the conditional delete fail.

export type GcTarget = { kind: 'manifest' | 'link'; repo: string; digest: string } | { kind: 'blob'; digest: string };

/** A tag as a reader sees it: what it points at, since when, and its last recorded pull. */
export interface TagState {
  digest: string;
  /**
   * When the tag was last pointed at a manifest (a put that moved or created it; the same digest
   * again moves nothing). Tags stored before tag times were recorded: their manifest's creation time.
   */
  taggedAt: number;
  /** When a pull by tag was last recorded (at most one record per UTC day); absent: none since it was set. */
  pulledAt?: number;
}

/** What a read by tag also says of the tag. */
export interface TagUse {
  pulledAt?: number;
}

/**
 * Thrown by BlobStore upload calls when another request is working on the same session, or the upload
 * changed since the caller read it.
 */
export class UploadConflictError extends Error {
  constructor(message = 'upload is being written by another request') {
    super(message);
    this.name = 'UploadConflictError';
  }
}

export interface PutManifestOptions {
  /**
   * Tags of the put that must not move: one that exists and points at another manifest fails the
   * whole put with TagImmutableError, checked in the same atomic write (a racing put cannot slip by).
   */
  immutable?: ReadonlySet<string>;
  /**
   * The push's audit entry: a store that can write it in the same atomic write as the manifest does
   * (then the push and its entry land together or not at all) and says so in the result; otherwise
   * the caller writes it to the audit log.
   */
  audit?: AuditEntry;
}

/** What putManifest did beyond the manifest: whether it wrote `opts.audit`. */
export interface PutManifestResult {
  audited: boolean;
}

/** Thrown by MetadataStore.putManifest when an immutable tag points at another manifest; nothing was written. */
export class TagImmutableError extends Error {
  readonly tag: string;
  readonly current: string;
  constructor(tag: string, current: string) {
    super(`tag ${tag} is immutable and points at ${current}`);
    this.name = 'TagImmutableError';
    this.tag = tag;
    this.current = current;
  }
}

/** Thrown by BlobStore upload calls when the upload's bytes are gone (completed or cancelled meanwhile). */
export class UploadGoneError extends Error {
  constructor(message = 'upload no longer exists') {
    super(message);
    this.name = 'UploadGoneError';
  }
}

/** Thrown by BlobStore writes when the storage has no room left. */
export class StorageFullError extends Error {
  constructor(message = 'storage is full') {
    super(message);
    this.name = 'StorageFullError';
  }
}

/** Thrown by BlobStore.appendUpload when the body's length differs from the expected length. */
export class UploadSizeError extends Error {
  readonly received: number;
  constructor(expected: number, received: number) {
    super(`expected ${expected} bytes, received ${received}`);
    this.name = 'UploadSizeError';
    this.received = received;
  }
}

/** Thrown by BlobStore.finishUpload when the uploaded bytes do not match the digest; the bytes are discarded. */
export class DigestMismatchError extends Error {
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`uploaded bytes have digest ${actual}, not ${expected}`);
    this.name = 'DigestMismatchError';
    this.actual = actual;
  }
}

export interface BlobStore {
  /** Minimum chunk size (bytes) the store wants for non-final chunks (OCI-Chunk-Min-Length). */
  readonly minChunkLength: number;

  /** Prepares storage for a new upload session, without a storage call where it can; returns the initial state. */
  startUpload(id: string): Promise<string>;
  /**
   * Appends the body at `offset` (the session's current size), hashing as bytes arrive. Never holds
   * the whole body in memory. On any failure the upload is left exactly as it was before the call
   * (as far as the returned state is concerned: bytes written under a state that is never recorded
   * are unreachable and cleaned up by expiry). When `expectedLength` is given, a body of any other
   * length fails with UploadSizeError. Returns the new size and state. The caller holds the
   * session's lease.
   */
  appendUpload(
    id: string,
    offset: number,
    state: string,
    body: AsyncIterable<Uint8Array>,
    expectedLength?: number,
  ): Promise<{ offset: number; state: string }>;
  /**
   * Checks the `size` uploaded bytes against `digest` from the saved hash state (no re-read of the
   * bytes) and makes them durable where they can be served; returns that location. No bytes are
   * copied, and a blob whose bytes all arrived in one appendUpload is not read back either. On a mismatch the bytes are discarded and DigestMismatchError thrown. UploadConflictError
   * unless the upload holds exactly `size` bytes; UploadGoneError when its bytes are gone.
   */
  finishUpload(id: string, size: number, state: string, digest: string): Promise<{ location: string }>;
  /** Discards an upload's bytes. Idempotent. */
  abortUpload(id: string, state: string): Promise<void>;

  /** Stores a small, already verified blob (e.g. the empty JSON descriptor); returns its location. */
  putBlob(digest: string, bytes: Uint8Array): Promise<string>;
  /** A short-lived URL that serves the blob's bytes (with Range support), computed without a storage call. */
  readUrl(blob: BlobRecord, opts: { expiresInSeconds: number }): Promise<string>;
  /** Deletes the bytes at a location (a duplicate upload, a collected blob). Idempotent. */
  deleteBlob(location: string): Promise<void>;

  /**
   * Optional: stores that take uploads out of band implement it. The blob uploaded for `repo`
   * straight into storage, if it is there: the CloudFront edge PUTs a monolithic upload into S3 as
   * object `blobs/r/<repo>/<alg>/<hex>` (edgeUploadKey), and S3 verified its digest on that PUT
   * (x-amz-checksum-sha256). The storage event normally records it (functions/apps/events-lambda); a manifest
   * PUT that arrives first asks here for each digest it cannot find linked, and records what is
   * found (one HeadObject per digest). Only the object under `repo`'s own prefix counts: another
   * repository's upload of the same digest is never an answer, so referencing a digest grants
   * nothing. Returns the location to record (the object key), the stored size and, when the edge
   * wrote it into the object's metadata, the id of the upload session that wrote it.
   */
  findRepoUpload?(repo: string, digest: string): Promise<{ location: string; size: number; uploadId?: string } | undefined>;
}
