// SqliteMetadataStore, blobs: the global record (first writer wins) and the per-repository links.
// Against real temp-file databases, one per test (test/support/sqlite-metadata.ts).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { digestOf, sqliteMetadataStorePerTest } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

describe('SqliteMetadataStore', () => {
  describe('blobs', () => {
    it('first writer wins', async () => {
      const first = { digest: digestOf(1), size: 10, location: 'blobs/first', createdAt: 5 };
      assert.deepEqual(await t.store.putBlob(first), first);
      // A later verified copy is told where the first one lives (and deletes its own bytes).
      assert.deepEqual(await t.store.putBlob({ digest: digestOf(1), size: 10, location: 'blobs/second', createdAt: 6 }), first);
      assert.deepEqual(await t.store.getBlob(digestOf(1)), { digest: digestOf(1), size: 10, location: 'blobs/first', createdAt: 5 });
      assert.equal(await t.store.getBlob(digestOf(2)), undefined);
    });

    it('a blob is visible from a repository only through a link', async () => {
      const d = digestOf(1);
      await t.store.linkBlob('r/x', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 });
      assert.equal(await t.store.getLinkedBlob('r/x', d), undefined, 'link without blob record');
      assert.equal(await t.store.repositoryExists('r/x'), true, 'linkBlob creates the repository');
      await t.store.putBlob({ digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.deepEqual(await t.store.getLinkedBlob('r/x', d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.equal(await t.store.getLinkedBlob('r/y', d), undefined, 'blob without link');
      await t.store.linkBlob('r/x', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 }); // idempotent
      await t.store.linkBlob('r/y', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 });
      assert.equal(await t.store.unlinkBlob('r/x', d), true);
      assert.equal(await t.store.unlinkBlob('r/x', d), false);
      assert.equal(await t.store.getLinkedBlob('r/x', d), undefined);
      assert.deepEqual(await t.store.getLinkedBlob('r/y', d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.deepEqual(await t.store.getBlob(d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 }, 'unlink keeps the global record');
    });
  });
});
