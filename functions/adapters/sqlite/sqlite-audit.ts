// AuditLog on SQLite (`npm start`, the admin CLI): its own database file (audit.db in the data dir),
// written by the server and the CLI alike (WAL, a busy timeout; each entry committed with
// synchronous=FULL, the WAL default here, as registry.db's writes are). Entries older than the retention are
// deleted when the file is opened and then at most once an hour, as entries are added.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DEFAULT_AUDIT_RETENTION_DAYS, type AuditEntry, type AuditLog, type AuditQuery } from '../../core/audit.ts';
import { inImmediateTransaction } from './sqlite-schema.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (project TEXT NOT NULL, id TEXT NOT NULL, time INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (project, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time);
`;

/** The audit database's file name in the data dir. */
export const AUDIT_DB = 'audit.db';
const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export class SqliteAuditLog implements AuditLog {
  readonly #db: DatabaseSync;
  readonly #retentionMs: number;
  readonly #insert: StatementSync;
  #pruned = 0;

  constructor(path: string, opts: { retentionDays?: number; now?: () => number } = {}) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;');
    inImmediateTransaction(this.#db, () => this.#db.exec(SCHEMA));
    this.#insert = this.#db.prepare('INSERT INTO audit (project, id, time, doc) VALUES (?, ?, ?, ?)');
    this.#retentionMs = (opts.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS) * DAY_MS;
    this.#prune((opts.now ?? Date.now)());
  }

  close(): void {
    this.#db.close();
  }

  #prune(now: number): void {
    this.#pruned = now;
    this.#db.prepare('DELETE FROM audit WHERE time < ?').run(now - this.#retentionMs);
  }

  async append(entry: AuditEntry): Promise<void> {
    this.#insert.run(entry.project, entry.id, entry.time, JSON.stringify(entry));
    if (entry.time - this.#pruned >= PRUNE_EVERY_MS) this.#prune(entry.time);
  }

  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const rows = this.#db.prepare('SELECT doc FROM audit WHERE project = ? AND time >= ? ORDER BY id DESC LIMIT ?').all(q.project, q.since ?? 0, q.limit) as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as AuditEntry);
  }

  async projects(): Promise<string[]> {
    return (this.#db.prepare('SELECT DISTINCT project FROM audit ORDER BY project').all() as { project: string }[]).map((r) => r.project);
  }
}
