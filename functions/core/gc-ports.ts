// The ports of garbage collection (functions/core/gc, docs/gc.md): what a GC run reads of the
// metadata and blob stores beyond MetadataStore and BlobStore (ports.ts), which both adapters implement.
import type { BlobRecord, GcTarget, Page, TagState, UploadSession } from './ports.ts';

export interface GcManifest {
  digest: string;
  size: number;
  createdAt: number;
  blobs: string[];
  manifests: string[];
  subject?: string;
  /** When a GC run marked it; absent when unmarked. */
  markedAt?: number;
  /** Storage locations that hold its body or fields (a large manifest's S3 objects), deleted with it. */
  stored: string[];
}

export interface GcLink {
  digest: string;
  size: number;
  /** When the link was last written. */
  linkedAt: number;
  markedAt?: number;
}

/** Everything GC needs of one repository, read in one go (tags, manifests, links). */
export interface GcRepository {
  repo: string;
  tags: Map<string, TagState>;
  manifests: GcManifest[];
  links: GcLink[];
}

export interface GcBlob extends BlobRecord {
  /** When the record was last written or re-recorded (putBlob, linkBlob). */
  touchedAt: number;
  markedAt?: number;
}

/** What a GC run needs of the metadata store, beyond MetadataStore (both adapters implement it). */
export interface GcMetadataStore {
  /** The whole repository: tags, manifests (references, marks, stored locations) and links. */
  gcRepository(repo: string): Promise<GcRepository>;
  /** One page of global blob records, in a stable order; `cursor` from the previous page. */
  gcBlobs(limit: number, cursor?: string): Promise<{ items: GcBlob[]; cursor?: string }>;
  /**
   * Marks the item with `at`, only if it exists, is unmarked and was last written (created, linked,
   * touched) no later than `notAfter`. One conditional write. True when marked.
   */
  gcMark(target: GcTarget, at: number, notAfter: number): Promise<boolean>;
  /**
   * Deletes the item only while it still carries the mark `markedAt` (nobody needed it since). A
   * manifest goes with its referrer entry, and only while no tag points at it and its subject (if
   * any) is absent or marked too. True when deleted.
   */
  gcDelete(target: GcTarget, markedAt: number): Promise<boolean>;
  /** As MetadataStore.gcUnmark. */
  gcUnmark(target: GcTarget): Promise<boolean>;
  /** As MetadataStore.deleteTag (a retention rule's removal passes `expect`). */
  deleteTag(repo: string, tag: string, expect?: TagState): Promise<boolean>;
  /** Every repository name, a page at a time (listRepositories). */
  listRepositories(limit: number, last?: string): Promise<Page<string>>;
  /** Whether an upload session is alive (its bytes are not garbage). */
  getUpload(id: string): Promise<UploadSession | undefined>;
}

/** Bytes in storage as GC sees them. */
export interface StoredObject {
  location: string;
  size: number;
  /** Epoch ms of the last write. */
  modifiedAt: number;
}

/** What a GC run needs of a blob store. */
export interface GcBlobStore {
  /** One page of everything stored under the blob (and manifest body) prefixes; upload scratch space excluded. */
  listStored(limit: number, cursor?: string): Promise<{ items: StoredObject[]; cursor?: string }>;
  /**
   * Deletes the bytes at `location` only if they were last written no later than `notAfter` (a
   * re-upload to the same location since is kept). Returns the bytes freed, 0 when kept or absent.
   */
  deleteStale(location: string, notAfter: number): Promise<number>;
  /** The upload session whose scratch or pending bytes live at `location`, if the location names one. */
  uploadIdOf(location: string): string | undefined;
}
