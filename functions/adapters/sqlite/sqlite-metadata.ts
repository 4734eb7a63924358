// MetadataStore on SQLite (node:sqlite, synchronous). Every statement is prepared once in the
// constructor. Text keys use SQLite's default BINARY collation, i.e. byte order of the UTF-8
// encoding, the same order DynamoDB uses for sort keys, so pagination behaves alike in both adapters.
import { DatabaseSync, type SQLInputValue, type StatementResultingChanges, type StatementSync } from 'node:sqlite';
import {
  StorageFullError, TagImmutableError, type BlobRecord, type GcTarget, type Descriptor, type ManifestHead, type ManifestRecord, type MetadataStore, type TagState, type TagUse, type Page, type References, type PutManifestOptions, type PutManifestResult, type UploadLease, type UploadSession
} from '../../core/ports.ts';
import type { GcBlob, GcMetadataStore, GcRepository } from '../../core/gc-ports.ts';
import { startOfDay } from '../../core/pulls.ts';
import { SqliteGc } from './sqlite-gc.ts';
import { SqliteQuota } from './sqlite-quota.ts';
import type { ProjectUsage, RepositorySize } from '../../core/quota-ports.ts';
import { migrate } from './sqlite-schema.ts';

/** SQLite's primary result code for a full disk or database. */
const SQLITE_FULL = 13;

interface UploadRow {
  id: string; repo: string; offset: number; state: string; created_at: number; updated_at: number; expires_at: number;
  lease_holder: string | null; lease_until: number | null;
}
interface BlobRow { digest: string; size: number; location: string; created_at: number }
interface HeadRow { digest: string; media_type: string; size: number; pulled_at?: number | null }
interface ManifestRow {
  digest: string; media_type: string; size: number; body: Uint8Array; subject: string | null; artifact_type: string | null;
  annotations: string | null; blobs: string; manifests: string; created_at: number; pulled_at?: number | null;
}
interface ReferrerRow { digest: string; media_type: string; size: number; artifact_type: string | null; annotations: string | null }

const MANIFEST_COLUMNS = 'm.digest, m.media_type, m.size, m.body, m.subject, m.artifact_type, m.annotations, m.blobs, m.manifests, m.created_at';

function prepareAll(db: DatabaseSync) {
  const p = (sql: string): StatementSync => {
    const stmt = db.prepare(sql);
    // A full disk is the port's StorageFullError, whichever write meets it (reads cannot fill a disk;
    // the migration writes nothing once the schema is current).
    const run = stmt.run.bind(stmt) as (...args: SQLInputValue[]) => StatementResultingChanges;
    (stmt as { run: typeof run }).run = (...args) => {
      try {
        return run(...args);
      } catch (e) {
        throw (e as { errcode?: number } | null)?.errcode === SQLITE_FULL ? new StorageFullError('storage is full (SQLite)') : e;
      }
    };
    return stmt;
  };
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),

    insertUpload: p('INSERT INTO uploads (id, repo, offset, state, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    getUpload: p('SELECT * FROM uploads WHERE id = ? AND expires_at > ?'),
    leaseUpload: p(`UPDATE uploads SET lease_holder = ?, lease_until = ?
      WHERE id = ? AND offset = ? AND expires_at > ? AND (lease_holder IS NULL OR lease_until <= ? OR lease_holder = ?)`),
    anyLease: p('SELECT 1 AS held FROM uploads WHERE lease_holder IS NOT NULL LIMIT 1'),
    releaseAllLeases: p('UPDATE uploads SET lease_holder = NULL, lease_until = NULL WHERE lease_holder IS NOT NULL'),
    updateUpload: p(`UPDATE uploads SET offset = ?, state = ?, updated_at = ?, expires_at = ?, lease_holder = NULL, lease_until = NULL
      WHERE id = ? AND lease_holder = ?`),
    releaseUpload: p('UPDATE uploads SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?'),
    deleteUpload: p('DELETE FROM uploads WHERE id = ? AND expires_at > ?'),
    purgeUpload: p('DELETE FROM uploads WHERE id = ?'),
    expiredUploads: p('SELECT * FROM uploads WHERE expires_at < ? ORDER BY expires_at, id LIMIT ?'),
    uploadIdsAfter: p('SELECT id FROM uploads WHERE id > ? ORDER BY id LIMIT ?'),

    insertBlob: p('INSERT INTO blobs (digest, size, location, created_at, touched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING'),
    touchBlob: p('UPDATE blobs SET touched_at = ?, gc_mark = NULL WHERE digest = ?'),
    getBlob: p('SELECT digest, size, location, created_at FROM blobs WHERE digest = ?'),
    insertLink: p('INSERT INTO blob_links (repo, digest, linked_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET linked_at = excluded.linked_at, gc_mark = NULL'),
    linkMarked: p('SELECT 1 AS found FROM blob_links WHERE repo = ? AND digest = ? AND gc_mark IS NOT NULL'),
    manifestMarked: p('SELECT 1 AS found FROM manifests WHERE repo = ? AND digest = ? AND gc_mark IS NOT NULL'),
    unmarkManifest: p('UPDATE manifests SET gc_mark = NULL WHERE repo = ? AND digest = ? AND gc_mark IS NOT NULL'),
    getLinkedBlob: p('SELECT b.digest, b.size, b.location, b.created_at FROM blob_links l JOIN blobs b ON b.digest = l.digest WHERE l.repo = ? AND l.digest = ?'),
    deleteLink: p('DELETE FROM blob_links WHERE repo = ? AND digest = ?'),

    insertRepo: p('INSERT INTO repositories (name) VALUES (?) ON CONFLICT DO NOTHING'),
    repoExists: p('SELECT 1 AS found FROM repositories WHERE name = ?'),
    reposFirst: p('SELECT name FROM repositories ORDER BY name LIMIT ?'),
    reposAfter: p('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?'),

    insertManifest: p(`INSERT INTO manifests (repo, digest, media_type, size, body, subject, artifact_type, annotations, blobs, manifests, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo, digest) DO NOTHING`),
    getManifest: p(`SELECT ${MANIFEST_COLUMNS} FROM manifests m WHERE m.repo = ? AND m.digest = ?`),
    getTaggedManifest: p(`SELECT ${MANIFEST_COLUMNS}, t.pulled_at FROM tags t JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? AND t.tag = ?`),
    headManifest: p('SELECT digest, media_type, size FROM manifests WHERE repo = ? AND digest = ?'),
    headTaggedManifest: p('SELECT m.digest, m.media_type, m.size, t.pulled_at FROM tags t JOIN manifests m ON m.repo = t.repo AND m.digest = t.digest WHERE t.repo = ? AND t.tag = ?'),
    deleteManifest: p('DELETE FROM manifests WHERE repo = ? AND digest = ?'),
    referrersFirst: p(`SELECT digest, media_type, size, artifact_type, annotations FROM manifests
      WHERE repo = ? AND subject = ? ORDER BY digest LIMIT ?`),
    referrersAfter: p(`SELECT digest, media_type, size, artifact_type, annotations FROM manifests
      WHERE repo = ? AND subject = ? AND digest > ? ORDER BY digest LIMIT ?`),

    tagDigest: p('SELECT digest FROM tags WHERE repo = ? AND tag = ?'),
    // A tag moved to another manifest gets the put's time and loses its pull record; the same digest again changes nothing.
    upsertTag: p(`INSERT INTO tags (repo, tag, digest, tagged_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag)
      DO UPDATE SET digest = excluded.digest, tagged_at = excluded.tagged_at, pulled_at = NULL WHERE tags.digest <> excluded.digest`),
    deleteTag: p('DELETE FROM tags WHERE repo = ? AND tag = ?'),
    deleteTagAsSeen: p('DELETE FROM tags WHERE repo = ? AND tag = ? AND digest = ? AND tagged_at = ? AND pulled_at IS ?'),
    recordPull: p('UPDATE tags SET pulled_at = ? WHERE repo = ? AND tag = ? AND digest = ? AND (pulled_at IS NULL OR pulled_at < ?)'),
    deleteTagsOf: p('DELETE FROM tags WHERE repo = ? AND digest = ?'),
    tagsFirst: p('SELECT tag AS name FROM tags WHERE repo = ? ORDER BY tag LIMIT ?'),
    tagsAfter: p('SELECT tag AS name FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?'),
  };
}

function toUpload(row: UploadRow): UploadSession {
  return {
    id: row.id, repo: row.repo, offset: row.offset, state: row.state,
    createdAt: row.created_at, updatedAt: row.updated_at, expiresAt: row.expires_at,
    ...(row.lease_holder !== null && row.lease_until !== null ? { lease: { holder: row.lease_holder, until: row.lease_until } } : {}),
  };
}

function toBlob(row: BlobRow): BlobRecord {
  return { digest: row.digest, size: row.size, location: row.location, createdAt: row.created_at };
}

function toManifest(row: ManifestRow): ManifestRecord {
  const record: ManifestRecord = {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    body: row.body,
    blobs: JSON.parse(row.blobs) as string[],
    manifests: JSON.parse(row.manifests) as string[],
    createdAt: row.created_at,
  };
  if (row.subject !== null) record.subject = row.subject;
  if (row.artifact_type !== null) record.artifactType = row.artifact_type;
  if (row.annotations !== null) record.annotations = JSON.parse(row.annotations) as Record<string, string>;
  return record;
}

function toDescriptor(row: ReferrerRow): Descriptor {
  const descriptor: Descriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
  if (row.artifact_type !== null) descriptor.artifactType = row.artifact_type;
  if (row.annotations !== null) descriptor.annotations = JSON.parse(row.annotations) as Record<string, string>;
  return descriptor;
}

/** Runs a `... LIMIT ?` name query for one page: fetches limit+1 rows to learn whether more follow. */
function page(limit: number, fetch: (n: number) => unknown[]): Page<string> {
  const n = Math.max(0, Math.floor(limit));
  const names = (fetch(n + 1) as { name: string }[]).map((row) => row.name);
  return { items: names.slice(0, n), more: names.length > n };
}

export class SqliteMetadataStore implements MetadataStore, GcMetadataStore {
  private readonly db: DatabaseSync;
  private readonly q: ReturnType<typeof prepareAll>;
  private readonly gc: SqliteGc;
  private readonly quota: SqliteQuota;

  private readonly now: () => number;

  /** Opens (creating if needed) the database at `file`, or an in-memory one for ':memory:'. */
  constructor(file: string, options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.db = new DatabaseSync(file);
    try {
      // busy_timeout first: switching a new database to WAL needs a lock another process may hold.
      this.db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
      migrate(this.db);
      this.q = prepareAll(this.db);
      this.gc = new SqliteGc(this.db, (work) => this.transaction(work));
      this.quota = new SqliteQuota(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Runs `work` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows on any error. */
  private transaction<T>(work: () => T): T {
    this.q.begin.run();
    try {
      const result = work();
      this.q.commit.run();
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.q.rollback.run();
      throw err;
    }
  }

  // Upload sessions.

  async createUpload(s: UploadSession): Promise<void> {
    this.q.insertUpload.run(s.id, s.repo, s.offset, s.state, s.createdAt, s.updatedAt, s.expiresAt);
  }

  /** A session past its expiry is absent (the sweeper purges it later), as DynamoDB's TTL makes it there. */
  async getUpload(id: string): Promise<UploadSession | undefined> {
    const row = this.q.getUpload.get(id, this.now()) as UploadRow | undefined;
    return row && toUpload(row);
  }

  async leaseUpload(id: string, expectedOffset: number, lease: UploadLease, now: number): Promise<boolean> {
    return Number(this.q.leaseUpload.run(lease.holder, lease.until, id, expectedOffset, now, now, lease.holder).changes) > 0;
  }

  /**
   * Voids every lease: at start-up, when no request of this process can be holding one. A process
   * killed mid-request would otherwise block its sessions until the lease ran out.
   */
  releaseAllLeases(): number {
    // Read first: a start-up with nothing to release takes no write lock (two instances starting on
    // one data dir do not queue on each other, and a full disk does not stop a start).
    if (this.q.anyLease.get() === undefined) return 0;
    return Number(this.q.releaseAllLeases.run().changes);
  }

  async updateUpload(id: string, holder: string, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean> {
    const { changes } = this.q.updateUpload.run(next.offset, next.state, next.updatedAt, next.expiresAt, id, holder);
    return Number(changes) > 0;
  }

  async releaseUpload(id: string, holder: string): Promise<void> {
    this.q.releaseUpload.run(id, holder);
  }

  async deleteUpload(id: string): Promise<boolean> {
    return Number(this.q.deleteUpload.run(id, this.now()).changes) > 0;
  }

  /** Deletes the session whether or not it has expired (the local sweeper). */
  purgeUpload(id: string): boolean {
    return Number(this.q.purgeUpload.run(id).changes) > 0;
  }

  /** Sessions past their expiry, oldest first (the local sweeper; DynamoDB uses TTL instead). */
  async listExpiredUploads(now: number, limit: number): Promise<UploadSession[]> {
    const rows = this.q.expiredUploads.all(now, Math.max(0, Math.floor(limit))) as unknown as UploadRow[];
    return rows.map(toUpload);
  }

  /** Every session's id, expired or not, in id order after `after` (the start-up sweep). */
  listUploadIds(after: string, limit: number): string[] {
    return (this.q.uploadIdsAfter.all(after, Math.max(1, Math.floor(limit))) as unknown as { id: string }[]).map((r) => r.id);
  }

  // Blobs.

  /** A record that exists is touched and its GC mark removed (it is needed again); the first one stays. */
  async putBlob(blob: BlobRecord): Promise<BlobRecord> {
    return this.transaction(() => {
      if (Number(this.q.touchBlob.run(this.now(), blob.digest).changes) > 0) return toBlob(this.q.getBlob.get(blob.digest) as unknown as BlobRow);
      this.q.insertBlob.run(blob.digest, blob.size, blob.location, blob.createdAt, this.now());
      return blob;
    });
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const row = this.q.getBlob.get(digest) as BlobRow | undefined;
    return row && toBlob(row);
  }

  /** Size and location live on the global blob record (joined on read); the link only records visibility. */
  async linkBlob(repo: string, blob: BlobRecord, quota?: number): Promise<void> {
    this.transaction(() => {
      if (quota !== undefined) this.quota.check(repo, blob.digest, blob.size, quota);
      this.q.insertRepo.run(repo);
      this.q.insertLink.run(repo, blob.digest, this.now());
    });
  }

  async getLinkedBlob(repo: string, digest: string): Promise<BlobRecord | undefined> {
    const row = this.q.getLinkedBlob.get(repo, digest) as BlobRow | undefined;
    return row && toBlob(row);
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    return Number(this.q.deleteLink.run(repo, digest).changes) > 0;
  }

  /** Kept by the triggers on blob_links (sqlite-schema.ts v5). */
  async projectUsage(project: string, digest?: string): Promise<ProjectUsage> {
    return this.quota.usage(project, digest);
  }

  /** One local query over all the repository's links (no `maxLinks` needed): always complete. */
  async repositorySize(repo: string): Promise<RepositorySize> {
    return this.quota.repositorySize(repo);
  }

  // Manifests and tags.

  async getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = this.q.getManifest.get(repo, digest) as ManifestRow | undefined;
    return row && toManifest(row);
  }

  async getTaggedManifest(repo: string, tag: string): Promise<(ManifestRecord & TagUse) | undefined> {
    const row = this.q.getTaggedManifest.get(repo, tag) as ManifestRow | undefined;
    if (row === undefined) return undefined;
    const m: ManifestRecord & TagUse = toManifest(row);
    if (row.pulled_at != null) m.pulledAt = row.pulled_at;
    return m;
  }

  async headManifest(repo: string, ref: { tag: string } | { digest: string }): Promise<(ManifestHead & TagUse) | undefined> {
    const row = ('digest' in ref ? this.q.headManifest.get(repo, ref.digest) : this.q.headTaggedManifest.get(repo, ref.tag)) as HeadRow | undefined;
    if (row === undefined) return undefined;
    const head: ManifestHead & TagUse = { digest: row.digest, mediaType: row.media_type, size: row.size };
    if (row.pulled_at != null) head.pulledAt = row.pulled_at;
    return head;
  }

  async recordPull(repo: string, tag: string, digest: string, at: number): Promise<boolean> {
    return Number(this.q.recordPull.run(at, repo, tag, digest, startOfDay(at)).changes) > 0;
  }

  async getReferences(repo: string, digests: string[]): Promise<References> {
    const found: References = { blobs: new Map(), manifests: new Map() };
    for (const digest of digests) {
      const blob = this.q.getLinkedBlob.get(repo, digest) as BlobRow | undefined;
      if (blob) found.blobs.set(digest, toBlob(blob));
      const head = this.q.headManifest.get(repo, digest) as HeadRow | undefined;
      if (head) found.manifests.set(digest, { digest: head.digest, mediaType: head.media_type, size: head.size });
      if ((blob && this.q.linkMarked.get(repo, digest)) || (head && this.q.manifestMarked.get(repo, digest))) (found.marked ??= new Set()).add(digest);
    }
    return found;
  }

  /** The audit trail is its own database (audit.db): the caller writes the push's entry. */
  async putManifest(repo: string, m: ManifestRecord, tags: string[], _prepared?: unknown, opts: PutManifestOptions = {}): Promise<PutManifestResult> {
    // Serialise before BEGIN so a bad value cannot fail mid-transaction.
    const annotations = m.annotations === undefined ? null : JSON.stringify(m.annotations);
    const blobs = JSON.stringify(m.blobs);
    const manifests = JSON.stringify(m.manifests);
    this.transaction(() => {
      this.q.insertRepo.run(repo);
      this.q.insertManifest.run(repo, m.digest, m.mediaType, m.size, m.body, m.subject ?? null, m.artifactType ?? null,
        annotations, blobs, manifests, m.createdAt);
      this.q.unmarkManifest.run(repo, m.digest);
      for (const tag of tags) {
        if (opts.immutable?.has(tag)) {
          // In the write transaction: no other put can move the tag between this read and the write.
          const current = (this.q.tagDigest.get(repo, tag) as { digest: string } | undefined)?.digest;
          if (current !== undefined && current !== m.digest) throw new TagImmutableError(tag, current);
        }
        this.q.upsertTag.run(repo, tag, m.digest, m.createdAt);
      }
    });
    return { audited: false };
  }

  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    return this.transaction(() => {
      this.q.deleteTagsOf.run(repo, digest);
      return Number(this.q.deleteManifest.run(repo, digest).changes) > 0;
    });
  }

  async deleteTag(repo: string, tag: string, expect?: TagState): Promise<boolean> {
    const out = expect === undefined ? this.q.deleteTag.run(repo, tag) : this.q.deleteTagAsSeen.run(repo, tag, expect.digest, expect.taggedAt, expect.pulledAt ?? null);
    return Number(out.changes) > 0;
  }

  async listTags(repo: string, limit: number, last?: string): Promise<Page<string>> {
    return page(limit, (n) => (last === undefined ? this.q.tagsFirst.all(repo, n) : this.q.tagsAfter.all(repo, last, n)));
  }

  async listReferrers(repo: string, subject: string, limit: number, last?: string): Promise<Page<Descriptor>> {
    const n = Math.max(0, Math.floor(limit));
    const rows = (last === undefined ? this.q.referrersFirst.all(repo, subject, n + 1) : this.q.referrersAfter.all(repo, subject, last, n + 1)) as unknown as ReferrerRow[];
    return { items: rows.slice(0, n).map(toDescriptor), more: rows.length > n };
  }

  // Garbage collection (sqlite-gc.ts).

  async gcUnmark(target: GcTarget): Promise<boolean> {
    return this.gc.gcUnmark(target);
  }
  async gcRepository(repo: string): Promise<GcRepository> {
    return this.gc.gcRepository(repo);
  }
  async gcBlobs(limit: number, cursor?: string): Promise<{ items: GcBlob[]; cursor?: string }> {
    return this.gc.gcBlobs(limit, cursor);
  }
  async gcMark(target: GcTarget, at: number, notAfter: number): Promise<boolean> {
    return this.gc.gcMark(target, at, notAfter);
  }
  async gcDelete(target: GcTarget, markedAt: number): Promise<boolean> {
    return this.gc.gcDelete(target, markedAt);
  }

  // Repositories.

  async repositoryExists(repo: string): Promise<boolean> {
    return this.q.repoExists.get(repo) !== undefined;
  }

  async listRepositories(limit: number, last?: string): Promise<Page<string>> {
    return page(limit, (n) => (last === undefined ? this.q.reposFirst.all(n) : this.q.reposAfter.all(last, n)));
  }
}
