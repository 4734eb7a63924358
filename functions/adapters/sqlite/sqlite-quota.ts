// Storage quotas on SQLite (docs/quotas.md): the counts themselves are kept by the triggers of
// sqlite-schema.ts (v5) on every link write and delete; this reads them, and checks a link write
// against a project's limit inside the write's transaction. It also sums a repository's own links
// (repositorySize: each repository's size, shared blobs counted in each).
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { projectOf } from '../../core/auth/model.ts';
import { QuotaExceededError, type ProjectUsage, type RepositorySize } from '../../core/quota-ports.ts';

export class SqliteQuota {
  readonly #usage: StatementSync;
  readonly #counted: StatementSync;
  readonly #linked: StatementSync;
  readonly #repositorySize: StatementSync;

  constructor(db: DatabaseSync) {
    this.#usage = db.prepare('SELECT bytes, blobs FROM project_usage WHERE project = ?');
    this.#counted = db.prepare('SELECT 1 AS found FROM project_blobs WHERE project = ? AND digest = ?');
    this.#linked = db.prepare('SELECT 1 AS found FROM blob_links WHERE repo = ? AND digest = ?');
    // One row per linked digest (the key is (repo, digest)); a link's size is its blob record's.
    this.#repositorySize = db.prepare('SELECT COALESCE(SUM(b.size), 0) AS bytes, COUNT(*) AS blobs FROM blob_links l JOIN blobs b ON b.digest = l.digest WHERE l.repo = ?');
  }

  /** One query over the repository's links, all of them (a local index range): always complete. */
  repositorySize(repo: string): RepositorySize {
    const row = this.#repositorySize.get(repo) as { bytes: number; blobs: number };
    return { bytes: row.bytes, blobs: row.blobs, complete: true };
  }

  usage(project: string, digest?: string): ProjectUsage {
    const row = this.#usage.get(project) as { bytes: number; blobs: number } | undefined;
    const usage: ProjectUsage = { bytes: row?.bytes ?? 0, blobs: row?.blobs ?? 0 };
    if (digest !== undefined) usage.counted = this.#counted.get(project, digest) !== undefined;
    return usage;
  }

  /**
   * Inside the link write's transaction: throws QuotaExceededError when linking `digest` (of `size`
   * bytes) into `repo` would count it in a project already at `limit` (a blob the project counts
   * already, or a link being rewritten, adds nothing).
   */
  check(repo: string, digest: string, size: number, limit: number): void {
    if (this.#linked.get(repo, digest) !== undefined) return;
    const project = projectOf(repo);
    const usage = this.usage(project, digest);
    if (!usage.counted && usage.bytes + size > limit) throw new QuotaExceededError(project, usage.bytes, limit, size);
  }
}
