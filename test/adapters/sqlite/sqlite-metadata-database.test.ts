// SqliteMetadataStore, the database itself: WAL mode and durable commits, schema versions (a newer
// one refused, an older one migrated), persistence across reopening, a full disk, and in memory.
// Against real temp-file databases, one per test (test/support/sqlite-metadata.ts).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { StorageFullError } from '../../../functions/core/ports.ts';
import { digestOf, manifest, sqliteMetadataStorePerTest, upload } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

describe('SqliteMetadataStore', () => {
  it('opens in WAL mode with a schema version, and commits durably (synchronous = FULL)', () => {
    // synchronous is per connection: read it on the store's own.
    const own = (t.store as unknown as { db: DatabaseSync }).db;
    assert.deepEqual({ ...own.prepare('PRAGMA synchronous').get() }, { synchronous: 2 });
    t.store.close();
    const db = new DatabaseSync(t.file);
    try {
      assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
      assert.deepEqual({ ...db.prepare('PRAGMA user_version').get() }, { user_version: 5 });
    } finally {
      db.close();
    }
    t.store = new SqliteMetadataStore(t.file, { now: () => 0 }); // reopening an existing schema works
  });

  it('refuses a database written by a newer schema version', () => {
    t.store.close();
    const db = new DatabaseSync(t.file);
    db.exec('PRAGMA user_version = 99');
    db.close();
    assert.throws(() => new SqliteMetadataStore(t.file, { now: () => 0 }), /schema version 99/);
    t.store = new SqliteMetadataStore(':memory:', { now: () => 0 });
  });

  it('migrates a version 3 database: existing tags get their manifest\'s creation time as tag time, and no pull', async () => {
    await t.store.putManifest('r/old', { ...manifest(7), createdAt: 1234 }, ['v1']);
    t.store.close();
    // What a data dir of the previous release holds: tags without tag times, schema version 3.
    const db = new DatabaseSync(t.file);
    db.exec('ALTER TABLE tags DROP COLUMN tagged_at; ALTER TABLE tags DROP COLUMN pulled_at; PRAGMA user_version = 3');
    db.close();
    t.store = new SqliteMetadataStore(t.file, { now: () => 0 });
    assert.deepEqual((await t.store.gcRepository('r/old')).tags.get('v1'), { digest: digestOf(7), taggedAt: 1234 });
    assert.equal(await t.store.recordPull('r/old', 'v1', digestOf(7), 5 * 86_400_000), true);
    assert.equal(await t.store.deleteTag('r/old', 'v1', { digest: digestOf(7), taggedAt: 1234, pulledAt: 5 * 86_400_000 }), true);
  });

  it('persists across close and reopen', async () => {
    await t.store.createUpload(upload('u1', { offset: 3 }));
    await t.store.putBlob({ digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 5 });
    await t.store.linkBlob('r/x', { digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 0 });
    await t.store.putManifest('r/x', manifest(2, { subject: digestOf(3), annotations: { a: 'b' } }), ['v1']);
    t.store.close();
    t.store = new SqliteMetadataStore(t.file, { now: () => 0 });
    assert.deepEqual(await t.store.getUpload('u1'), upload('u1', { offset: 3 }));
    assert.deepEqual(await t.store.getLinkedBlob('r/x', digestOf(1)), { digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 5 });
    const got = await t.store.getTaggedManifest('r/x', 'v1');
    assert.deepEqual(got && { ...got, body: [...got.body] }, { ...manifest(2, { subject: digestOf(3), annotations: { a: 'b' } }), body: [...manifest(2).body] });
    assert.deepEqual((await t.store.listReferrers('r/x', digestOf(3), 1000)).items.map((d) => d.digest), [digestOf(2)]);
    assert.deepEqual(await t.store.listRepositories(10), { items: ['r/x'], more: false });
  });

  it('a full database (or disk) is StorageFullError, on plain writes and inside transactions; reads go on', async () => {
    // The store's own connection is capped at its current size, as if the disk had filled up.
    const db = (t.store as unknown as { db: DatabaseSync }).db;
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    db.exec(`PRAGMA max_page_count = ${pages}`);
    const big = (n: number) => upload(`full-${n}`, { state: 'x'.repeat(3000) });
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) await t.store.createUpload(big(i)).catch((e: unknown) => (failure = e));
    assert.ok(failure instanceof StorageFullError, `got ${String(failure)}`);
    await assert.rejects(t.store.putManifest('r/full', manifest('full', { body: new Uint8Array(50_000) }), ['v1']), StorageFullError);
    assert.equal(await t.store.getTaggedManifest('r/full', 'v1'), undefined, 'the failed transaction left nothing');
    assert.equal(await t.store.repositoryExists('r/full'), false);
  });

  it('works in memory', async () => {
    const mem = new SqliteMetadataStore(':memory:', { now: () => 0 });
    try {
      await mem.putManifest('r/x', manifest(1), ['v1']);
      assert.equal((await mem.getTaggedManifest('r/x', 'v1'))?.digest, digestOf(1));
    } finally {
      mem.close();
    }
  });
});
