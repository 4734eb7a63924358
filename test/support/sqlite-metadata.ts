// Shared by the SqliteMetadataStore tests (test/adapters/sqlite/sqlite-metadata-*.test.ts): a fresh
// temp-file database per test, opened before it and closed after it, and the records they store.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import type { ManifestRecord, UploadSession } from '../../functions/core/ports.ts';
import { OCI_MANIFEST } from './oci.ts';

/** The database of the running test. A test may close `store` and set another (closed after it). */
export interface StoreUnderTest {
  /** The test's own database file. */
  readonly file: string;
  store: SqliteMetadataStore;
}

class CurrentStore implements StoreUnderTest {
  #file: string | undefined;
  #store: SqliteMetadataStore | undefined;

  get file(): string {
    if (this.#file === undefined) throw new Error('no test is running');
    return this.#file;
  }

  set file(file: string) {
    this.#file = file;
  }

  get store(): SqliteMetadataStore {
    if (this.#store === undefined) throw new Error('no test is running');
    return this.#store;
  }

  set store(store: SqliteMetadataStore) {
    this.#store = store;
  }
}

/** Registers the hooks of the calling test file: each test gets a new database file and a store on it. */
export function sqliteMetadataStorePerTest(): StoreUnderTest {
  const current = new CurrentStore();
  let dir: string;
  let seq = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqlite-metadata-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seq += 1;
    current.file = join(dir, `meta-${seq}.db`);
    current.store = new SqliteMetadataStore(current.file, { now: () => 0 });
  });
  afterEach(() => {
    current.store.close();
  });
  return current;
}

export function digestOf(n: number | string): string {
  return `sha256:${String(n).padStart(64, '0')}`;
}

export function manifest(n: number | string, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  const body = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, n }));
  return {
    digest: digestOf(n), mediaType: OCI_MANIFEST, size: body.byteLength, body,
    blobs: [digestOf(`c${n}`), digestOf(`l${n}`)], manifests: [], createdAt: 1_000, ...extra,
  };
}

export function upload(id: string, extra: Partial<UploadSession> = {}): UploadSession {
  return { id, repo: 'r/x', offset: 0, state: '{}', createdAt: 10, updatedAt: 10, expiresAt: 100, ...extra };
}
