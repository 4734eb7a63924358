// The two storage ports the core depends on. Shaped for DynamoDB + S3 (single-item conditional
// writes, small transactions, key-ordered queries, no scans on hot paths); SQLite + files fit too.

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Record<string, unknown>;
}

/** A stored manifest, byte-exact. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
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

export interface BlobRecord {
  digest: string;
  size: number;
  createdAt: number;
}

export interface UploadSession {
  id: string;
  repo: string;
  /** Bytes received so far. */
  offset: number;
  /** Opaque blob-store state (e.g. saved hash state, multipart id and parts). */
  state: string;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms after which the session may be purged. */
  expiresAt: number;
}

export interface Page<T> {
  items: T[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

export interface MetadataStore {
  // Upload sessions.
  createUpload(session: UploadSession): Promise<void>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /** Conditional update: applies only if the stored offset equals `expectedOffset`. */
  updateUpload(id: string, expectedOffset: number, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean>;
  deleteUpload(id: string): Promise<boolean>;
  listExpiredUploads(now: number, limit: number): Promise<UploadSession[]>;

  // Blobs: one global record per digest, and per-repository links (a repo reads a blob only via a link).
  /** Records a verified blob; first writer wins. Returns false if it already existed. */
  putBlob(blob: BlobRecord): Promise<boolean>;
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Links the blob into the repository (creating the repository if new). */
  linkBlob(repo: string, digest: string, size: number): Promise<void>;
  /** The blob as visible from the repository (link present), or undefined. */
  getLinkedBlob(repo: string, digest: string): Promise<BlobRecord | undefined>;
  unlinkBlob(repo: string, digest: string): Promise<boolean>;

  // Manifests and tags.
  getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined>;
  /** The manifest a tag points at, in one lookup. */
  getTaggedManifest(repo: string, tag: string): Promise<ManifestRecord | undefined>;
  /**
   * Atomically stores the manifest (idempotent for the same digest), its referrer entry when it has a
   * subject, the repository, and, when `tag` is given, points the tag at it.
   */
  putManifest(repo: string, manifest: ManifestRecord, tag?: string): Promise<void>;
  /** Deletes the manifest, every tag pointing at it and its referrer entry. False if absent. */
  deleteManifest(repo: string, digest: string): Promise<boolean>;
  deleteTag(repo: string, tag: string): Promise<boolean>;
  /** Tags in lexical (byte) order, strictly after `last`. */
  listTags(repo: string, limit: number, last?: string): Promise<Page<string>>;
  /** Descriptors of manifests in `repo` whose subject is `subject`, ordered by digest. */
  listReferrers(repo: string, subject: string): Promise<Descriptor[]>;

  // Repositories.
  repositoryExists(repo: string): Promise<boolean>;
  /** Repository names in lexical (byte) order, strictly after `last`. */
  listRepositories(limit: number, last?: string): Promise<Page<string>>;
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

export interface BlobStore {
  /** Minimum chunk size (bytes) the store wants for non-final chunks (OCI-Chunk-Min-Length). */
  readonly minChunkLength: number;

  /** Prepares storage for a new upload session; returns the initial opaque state. */
  startUpload(id: string): Promise<string>;
  /**
   * Appends the body at `offset` (the session's current size), hashing as bytes arrive. Never holds
   * the whole body in memory. On any failure the upload is left exactly as it was before the call.
   * When `expectedLength` is given, a body of any other length fails with UploadSizeError.
   * Returns the new size and state.
   */
  appendUpload(
    id: string,
    offset: number,
    state: string,
    body: AsyncIterable<Uint8Array>,
    expectedLength?: number,
  ): Promise<{ offset: number; state: string }>;
  /** Digest (`algorithm:hex`) of the `size` bytes uploaded so far. */
  digestUpload(id: string, size: number, state: string, algorithm: string): Promise<string>;
  /**
   * Makes the verified upload the content of `digest` (content-addressed; a second copy of an
   * existing blob is discarded), then forgets the upload. Refuses (UploadConflictError) unless the
   * upload holds exactly `size` bytes and no other request is writing to it; UploadGoneError when
   * its bytes are gone.
   */
  commitUpload(id: string, digest: string, size: number, state: string): Promise<void>;
  /** Discards an upload's bytes. Idempotent. */
  abortUpload(id: string, state: string): Promise<void>;

  /** Stores a small, already verified blob (e.g. the empty JSON descriptor). */
  putBlob(digest: string, bytes: Uint8Array): Promise<void>;
  /** A short-lived URL that serves the blob bytes (with Range support). */
  readUrl(digest: string, opts: { expiresInSeconds: number }): Promise<string>;
  deleteBlob(digest: string): Promise<void>;
}
