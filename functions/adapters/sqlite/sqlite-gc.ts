// What a GC run needs of the SQLite metadata store (GcMetadataStore, functions/core/ports.ts): the whole
// of one repository, pages of blob records, and marks and deletes conditioned on the mark.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { GcTarget, TagState } from '../../core/ports.ts';
import type { GcBlob, GcLink, GcManifest, GcRepository } from '../../core/gc-ports.ts';

interface GcManifestRow { digest: string; size: number; created_at: number; blobs: string; manifests: string; subject: string | null; gc_mark: number | null }
interface GcLinkRow { digest: string; size: number | null; linked_at: number; gc_mark: number | null }
interface GcBlobRow { digest: string; size: number; location: string; created_at: number; touched_at: number; gc_mark: number | null }

const mark = (v: number | null) => (v === null ? {} : { markedAt: v });

export class SqliteGc {
  private readonly q: Record<string, StatementSync>;
  private readonly transaction: <T>(work: () => T) => T;

  constructor(db: DatabaseSync, transaction: <T>(work: () => T) => T) {
    this.transaction = transaction;
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      tags: p('SELECT tag, digest, tagged_at, pulled_at FROM tags WHERE repo = ?'),
      manifests: p('SELECT digest, size, created_at, blobs, manifests, subject, gc_mark FROM manifests WHERE repo = ?'),
      links: p('SELECT l.digest, b.size, l.linked_at, l.gc_mark FROM blob_links l LEFT JOIN blobs b ON b.digest = l.digest WHERE l.repo = ?'),
      blobsFirst: p('SELECT digest, size, location, created_at, touched_at, gc_mark FROM blobs ORDER BY digest LIMIT ?'),
      blobsAfter: p('SELECT digest, size, location, created_at, touched_at, gc_mark FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?'),
      markManifest: p('UPDATE manifests SET gc_mark = ? WHERE repo = ? AND digest = ? AND gc_mark IS NULL AND created_at <= ?'),
      markLink: p('UPDATE blob_links SET gc_mark = ? WHERE repo = ? AND digest = ? AND gc_mark IS NULL AND linked_at <= ?'),
      markBlob: p('UPDATE blobs SET gc_mark = ? WHERE digest = ? AND gc_mark IS NULL AND touched_at <= ?'),
      unmarkManifest: p('UPDATE manifests SET gc_mark = NULL WHERE repo = ? AND digest = ?'),
      unmarkLink: p('UPDATE blob_links SET gc_mark = NULL WHERE repo = ? AND digest = ?'),
      unmarkBlob: p('UPDATE blobs SET gc_mark = NULL WHERE digest = ?'),
      manifestState: p('SELECT subject, gc_mark FROM manifests WHERE repo = ? AND digest = ?'),
      tagged: p('SELECT 1 AS found FROM tags WHERE repo = ? AND digest = ? LIMIT 1'),
      deleteManifest: p('DELETE FROM manifests WHERE repo = ? AND digest = ? AND gc_mark = ?'),
      deleteLink: p('DELETE FROM blob_links WHERE repo = ? AND digest = ? AND gc_mark = ?'),
      deleteBlob: p('DELETE FROM blobs WHERE digest = ? AND gc_mark = ?'),
    };
  }

  gcRepository(repo: string): GcRepository {
    const rows = this.q.tags!.all(repo) as { tag: string; digest: string; tagged_at: number; pulled_at: number | null }[];
    const tags = new Map(rows.map((r): [string, TagState] => [r.tag, { digest: r.digest, taggedAt: r.tagged_at, ...(r.pulled_at === null ? {} : { pulledAt: r.pulled_at }) }]));
    const manifests = (this.q.manifests!.all(repo) as unknown as GcManifestRow[]).map((r): GcManifest => ({
      digest: r.digest, size: r.size, createdAt: r.created_at, blobs: JSON.parse(r.blobs) as string[], manifests: JSON.parse(r.manifests) as string[],
      ...(r.subject === null ? {} : { subject: r.subject }), ...mark(r.gc_mark), stored: [],
    }));
    const links = (this.q.links!.all(repo) as unknown as GcLinkRow[]).map((r): GcLink => ({ digest: r.digest, size: r.size ?? 0, linkedAt: r.linked_at, ...mark(r.gc_mark) }));
    return { repo, tags, manifests, links };
  }

  gcBlobs(limit: number, cursor?: string): { items: GcBlob[]; cursor?: string } {
    const n = Math.max(1, Math.floor(limit));
    const rows = (cursor === undefined ? this.q.blobsFirst!.all(n + 1) : this.q.blobsAfter!.all(cursor, n + 1)) as unknown as GcBlobRow[];
    const items = rows.slice(0, n).map((r): GcBlob => ({ digest: r.digest, size: r.size, location: r.location, createdAt: r.created_at, touchedAt: r.touched_at, ...mark(r.gc_mark) }));
    return rows.length > n ? { items, cursor: items.at(-1)!.digest } : { items };
  }

  gcMark(t: GcTarget, at: number, notAfter: number): boolean {
    const out = t.kind === 'blob' ? this.q.markBlob!.run(at, t.digest, notAfter)
      : t.kind === 'link' ? this.q.markLink!.run(at, t.repo, t.digest, notAfter)
      : this.q.markManifest!.run(at, t.repo, t.digest, notAfter);
    return Number(out.changes) > 0;
  }

  gcUnmark(t: GcTarget): boolean {
    const out = t.kind === 'blob' ? this.q.unmarkBlob!.run(t.digest) : t.kind === 'link' ? this.q.unmarkLink!.run(t.repo, t.digest) : this.q.unmarkManifest!.run(t.repo, t.digest);
    return Number(out.changes) > 0;
  }

  gcDelete(t: GcTarget, markedAt: number): boolean {
    if (t.kind === 'blob') return Number(this.q.deleteBlob!.run(t.digest, markedAt).changes) > 0;
    if (t.kind === 'link') return Number(this.q.deleteLink!.run(t.repo, t.digest, markedAt).changes) > 0;
    return this.transaction(() => {
      const row = this.q.manifestState!.get(t.repo, t.digest) as { subject: string | null; gc_mark: number | null } | undefined;
      if (row?.gc_mark !== markedAt || this.q.tagged!.get(t.repo, t.digest) !== undefined) return false;
      if (row.subject !== null) {
        const subject = this.q.manifestState!.get(t.repo, row.subject) as { gc_mark: number | null } | undefined;
        if (subject !== undefined && subject.gc_mark === null) return false;
      }
      return Number(this.q.deleteManifest!.run(t.repo, t.digest, markedAt).changes) > 0;
    });
  }
}
