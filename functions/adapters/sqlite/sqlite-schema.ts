// The SQLite metadata schema and its migrations, one step per version.
import type { DatabaseSync } from 'node:sqlite';

/** Bump when the schema changes, and add a migration step in `migrate`. */
const SCHEMA_VERSION = 5;

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS repositories (
  name TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_links (
  repo TEXT NOT NULL REFERENCES repositories(name),
  digest TEXT NOT NULL,
  PRIMARY KEY (repo, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS manifests (
  repo TEXT NOT NULL REFERENCES repositories(name),
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  body BLOB NOT NULL,
  subject TEXT,
  artifact_type TEXT,
  annotations TEXT,
  blobs TEXT NOT NULL,
  manifests TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo, digest)
);
CREATE INDEX IF NOT EXISTS manifests_by_subject ON manifests (repo, subject, digest) WHERE subject IS NOT NULL;
CREATE TABLE IF NOT EXISTS tags (
  repo TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (repo, tag),
  FOREIGN KEY (repo, digest) REFERENCES manifests(repo, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_digest ON tags (repo, digest);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  repo TEXT NOT NULL,
  offset INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_expiry ON uploads (expires_at);
`;

/**
 * v2: blobs name where their bytes live (earlier data: the file store's content-addressed path,
 * `blobs/<alg>/<first two hex>/<hex>`), and upload sessions carry a write lease.
 */
const SCHEMA_V2 = `
ALTER TABLE blobs ADD COLUMN location TEXT NOT NULL DEFAULT '';
UPDATE blobs SET location = 'blobs/' || substr(digest, 1, instr(digest, ':') - 1) || '/' ||
  substr(digest, instr(digest, ':') + 1, 2) || '/' || substr(digest, instr(digest, ':') + 1) WHERE location = '';
ALTER TABLE uploads ADD COLUMN lease_holder TEXT;
ALTER TABLE uploads ADD COLUMN lease_until INTEGER;
`;

/**
 * v3: garbage collection (docs/gc.md). Blob records carry when they were last recorded and a GC
 * mark; links when they were written and a mark; manifests a mark.
 */
const SCHEMA_V3 = `
ALTER TABLE blobs ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
UPDATE blobs SET touched_at = created_at;
ALTER TABLE blobs ADD COLUMN gc_mark INTEGER;
ALTER TABLE blob_links ADD COLUMN linked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blob_links ADD COLUMN gc_mark INTEGER;
ALTER TABLE manifests ADD COLUMN gc_mark INTEGER;
`;

/**
 * v4: retention (docs/gc.md). Tags carry when they were last pointed at a manifest (existing tags:
 * their manifest's creation time) and when a pull by tag was last recorded (none yet).
 */
const SCHEMA_V4 = `
ALTER TABLE tags ADD COLUMN tagged_at INTEGER NOT NULL DEFAULT 0;
UPDATE tags SET tagged_at = COALESCE((SELECT m.created_at FROM manifests m WHERE m.repo = tags.repo AND m.digest = tags.digest), 0);
ALTER TABLE tags ADD COLUMN pulled_at INTEGER;
`;

/** The project of a repository column (core/auth/model.ts projectOf: the first path component). */
const projectOf = (col: string) => `CASE WHEN instr(${col}, '/') > 0 THEN substr(${col}, 1, instr(${col}, '/') - 1) ELSE ${col} END`;

/**
 * v5: storage quotas (docs/quotas.md). Each project's distinct linked blobs (with the size counted
 * and how many of its repositories link each) and its usage, kept by triggers on blob_links, so
 * every write and delete of a link (push, mount, DELETE, GC) counts in its own transaction. Existing
 * links are counted once here.
 */
const SCHEMA_V5 = `
CREATE TABLE IF NOT EXISTS project_blobs (
  project TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL,
  PRIMARY KEY (project, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS project_usage (
  project TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  blobs INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO project_blobs (project, digest, size, refs)
  SELECT ${projectOf('l.repo')}, l.digest, COALESCE(MAX(b.size), 0), COUNT(*) FROM blob_links l LEFT JOIN blobs b ON b.digest = l.digest GROUP BY 1, 2;
INSERT INTO project_usage (project, bytes, blobs) SELECT project, SUM(size), COUNT(*) FROM project_blobs GROUP BY project;
CREATE TRIGGER IF NOT EXISTS blob_link_counted AFTER INSERT ON blob_links BEGIN
  INSERT INTO project_usage (project, bytes, blobs)
    SELECT ${projectOf('NEW.repo')}, COALESCE((SELECT size FROM blobs WHERE digest = NEW.digest), 0), 1
    WHERE NOT EXISTS (SELECT 1 FROM project_blobs WHERE project = ${projectOf('NEW.repo')} AND digest = NEW.digest)
    ON CONFLICT (project) DO UPDATE SET bytes = bytes + excluded.bytes, blobs = blobs + 1;
  INSERT INTO project_blobs (project, digest, size, refs)
    VALUES (${projectOf('NEW.repo')}, NEW.digest, COALESCE((SELECT size FROM blobs WHERE digest = NEW.digest), 0), 1)
    ON CONFLICT (project, digest) DO UPDATE SET refs = refs + 1;
END;
CREATE TRIGGER IF NOT EXISTS blob_link_uncounted AFTER DELETE ON blob_links BEGIN
  UPDATE project_usage SET
    bytes = bytes - (SELECT size FROM project_blobs WHERE project = ${projectOf('OLD.repo')} AND digest = OLD.digest),
    blobs = blobs - 1
    WHERE project = ${projectOf('OLD.repo')} AND (SELECT refs FROM project_blobs WHERE project = ${projectOf('OLD.repo')} AND digest = OLD.digest) = 1;
  DELETE FROM project_blobs WHERE project = ${projectOf('OLD.repo')} AND digest = OLD.digest AND refs = 1;
  UPDATE project_blobs SET refs = refs - 1 WHERE project = ${projectOf('OLD.repo')} AND digest = OLD.digest;
END;
`;

/** Brings the database to the current schema (no write when it is current). */
export function migrate(db: DatabaseSync): void {
  // A current schema needs no write (so a full disk does not stop the registry from starting).
  const current = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (current.user_version === SCHEMA_VERSION) return;
  inImmediateTransaction(db, () => {
    const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (version > SCHEMA_VERSION) throw new Error(`metadata schema version ${version} is newer than this code supports (${SCHEMA_VERSION})`);
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    if (version < 3) db.exec(SCHEMA_V3);
    if (version < 4) db.exec(SCHEMA_V4);
    if (version < 5) db.exec(SCHEMA_V5);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}

/**
 * Runs `fn` in a write transaction taken up front, committed when it returns, rolled back when it
 * throws. Statements that each read, then write (CREATE ... IF NOT EXISTS, a version check) fail at
 * once with "database is locked" when another process wrote in between, whatever the busy timeout;
 * BEGIN IMMEDIATE waits for the write lock instead.
 */
export function inImmediateTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
