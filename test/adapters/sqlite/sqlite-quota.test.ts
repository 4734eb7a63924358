// Storage quotas on SQLite (sqlite-schema.ts v5, sqlite-quota.ts): a data dir of the previous release
// gets its existing links counted once when it is first opened; the triggers keep the counts from
// then on (the MetadataStore contract's quota cases run on this adapter too: local-adapters.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sqlite-quota-'));
  file = join(dir, 'registry.db');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const blob = (n: number, size: number) => ({ digest: `sha256:${String(n).padStart(64, '0')}`, size, location: `blobs/${n}`, createdAt: 1 });

it('migrates a version 4 database: links there count once per project, and later writes keep counting', async () => {
  let store = new SqliteMetadataStore(file);
  for (const [n, size] of [[1, 100], [2, 50]] as const) await store.putBlob(blob(n, size));
  for (const repo of ['team/a', 'team/b', 'team']) await store.linkBlob(repo, blob(1, 100));
  await store.linkBlob('team/a', blob(2, 50));
  await store.linkBlob('other/x', blob(2, 50));
  store.close();
  // What a data dir of the previous release holds: links, no counts, schema version 4.
  const db = new DatabaseSync(file);
  db.exec('DROP TRIGGER blob_link_counted; DROP TRIGGER blob_link_uncounted; DROP TABLE project_blobs; DROP TABLE project_usage; PRAGMA user_version = 4');
  db.close();
  store = new SqliteMetadataStore(file);
  try {
    expect(await store.projectUsage('team')).toEqual({ bytes: 150, blobs: 2 });
    expect(await store.projectUsage('other')).toEqual({ bytes: 50, blobs: 1 });
    // Three links of blob 1 were counted as three references: it goes with the last.
    await store.unlinkBlob('team/a', blob(1, 100).digest);
    await store.unlinkBlob('team', blob(1, 100).digest);
    expect(await store.projectUsage('team')).toEqual({ bytes: 150, blobs: 2 });
    await store.unlinkBlob('team/b', blob(1, 100).digest);
    expect(await store.projectUsage('team', blob(1, 100).digest)).toEqual({ bytes: 50, blobs: 1, counted: false });
  } finally {
    store.close();
  }
});
