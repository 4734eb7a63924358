// The pull-through cache's leases and tag checks (core/proxy/state.ts) in the registry's SQLite
// database: every process on the data dir shares them, as Lambdas share the DynamoDB table.
import { DatabaseSync } from 'node:sqlite';
import type { ProxyStateStore } from '../../core/proxy/state.ts';
import { inImmediateTransaction } from './sqlite-schema.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS proxy_leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS proxy_tags (repo TEXT NOT NULL, tag TEXT NOT NULL, checked_at INTEGER NOT NULL, PRIMARY KEY (repo, tag)) WITHOUT ROWID;
`;

export class SqliteProxyState implements ProxyStateStore {
  readonly #db: DatabaseSync;

  constructor(file: string) {
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;');
    inImmediateTransaction(this.#db, () => this.#db.exec(SCHEMA));
  }

  close(): void {
    this.#db.close();
  }

  async lease(key: string, holder: string, until: number, now: number): Promise<boolean> {
    const r = this.#db
      .prepare(
        `INSERT INTO proxy_leases (key, holder, until) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE proxy_leases.until <= ? OR proxy_leases.holder = excluded.holder`,
      )
      .run(key, holder, until, now);
    return r.changes === 1;
  }

  async release(key: string, holder: string): Promise<void> {
    this.#db.prepare('DELETE FROM proxy_leases WHERE key = ? AND holder = ?').run(key, holder);
  }

  async tagCheckedAt(repository: string, tag: string): Promise<number | undefined> {
    const row = this.#db.prepare('SELECT checked_at FROM proxy_tags WHERE repo = ? AND tag = ?').get(repository, tag) as { checked_at: number } | undefined;
    return row?.checked_at;
  }

  async setTagChecked(repository: string, tag: string, at: number): Promise<void> {
    this.#db.prepare('INSERT INTO proxy_tags (repo, tag, checked_at) VALUES (?, ?, ?) ON CONFLICT (repo, tag) DO UPDATE SET checked_at = excluded.checked_at').run(repository, tag, at);
  }
}
