// SqliteMetadataStore, upload sessions: create, read, delete, leases (across connections too) and
// the listing of expired sessions.
// Against real temp-file databases, one per test (test/support/sqlite-metadata.ts).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { sqliteMetadataStorePerTest, upload } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

describe('SqliteMetadataStore', () => {
  describe('uploads', () => {
    it('creates, reads and deletes a session', async () => {
      const s = upload('u1', { offset: 5, state: '{"h":"abc"}' });
      await t.store.createUpload(s);
      assert.deepEqual(await t.store.getUpload('u1'), s);
      assert.equal(await t.store.getUpload('nope'), undefined);
      assert.equal(await t.store.deleteUpload('u1'), true);
      assert.equal(await t.store.deleteUpload('u1'), false);
      assert.equal(await t.store.getUpload('u1'), undefined);
    });

    it('refuses a duplicate session id', async () => {
      await t.store.createUpload(upload('u1'));
      await assert.rejects(t.store.createUpload(upload('u1')));
    });

    it('a lease is taken only at the stored offset and while no live lease is held', async () => {
      await t.store.createUpload(upload('u1'));
      const next = { offset: 100, state: 's1', updatedAt: 20, expiresAt: 200 };
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'a', until: 50 }, 10), true);
      assert.deepEqual((await t.store.getUpload('u1'))?.lease, { holder: 'a', until: 50 });
      // A second request meanwhile is refused, whatever offset it read.
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'b', until: 60 }, 11), false);
      // The holder renews its own lease.
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'a', until: 50 }, 12), true);
      // Only the holder records bytes; recording releases the lease.
      assert.equal(await t.store.updateUpload('u1', 'b', { offset: 50, state: 'stale', updatedAt: 21, expiresAt: 201 }), false);
      assert.equal(await t.store.updateUpload('u1', 'a', next), true);
      assert.deepEqual(await t.store.getUpload('u1'), { ...upload('u1'), ...next });
      assert.equal(await t.store.updateUpload('u1', 'a', next), false, 'a released lease records nothing');
      // A stale offset cannot take the lease; the current one can.
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'c', until: 70 }, 30), false);
      assert.equal(await t.store.leaseUpload('u1', 100, { holder: 'c', until: 70 }, 30), true);
      // A lease past its time is void: a crashed holder cannot wedge the session.
      assert.equal(await t.store.leaseUpload('u1', 100, { holder: 'd', until: 90 }, 69), false);
      assert.equal(await t.store.leaseUpload('u1', 100, { holder: 'd', until: 90 }, 70), true);
      assert.equal(await t.store.updateUpload('u1', 'c', { offset: 150, state: 's2', updatedAt: 22, expiresAt: 202 }), false);
      await t.store.releaseUpload('u1', 'd');
      assert.equal((await t.store.getUpload('u1'))?.lease, undefined);
      assert.equal((await t.store.getUpload('u1'))?.offset, 100);
      assert.equal(await t.store.leaseUpload('missing', 0, { holder: 'e', until: 90 }, 1), false);
      assert.equal(await t.store.updateUpload('missing', 'e', next), false);
    });

    it('releaseAllLeases voids every lease (start-up after a crash)', async () => {
      await t.store.createUpload(upload('u1'));
      await t.store.createUpload(upload('u2'));
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'dead', until: 10_000 }, 1), true);
      assert.equal(t.store.releaseAllLeases(), 1);
      assert.equal((await t.store.getUpload('u1'))?.lease, undefined);
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'new', until: 10_000 }, 2), true);
    });

    it('an expired session cannot be leased', async () => {
      await t.store.createUpload(upload('u1', { expiresAt: 100 }));
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'a', until: 500 }, 100), false);
      assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'a', until: 500 }, 99), true);
    });

    it('the lease holds across two connections to the same file', async () => {
      const other = new SqliteMetadataStore(t.file, { now: () => 0 });
      try {
        await t.store.createUpload(upload('u1'));
        assert.equal(await other.leaseUpload('u1', 0, { holder: 'b', until: 100 }, 1), true);
        assert.equal(await t.store.leaseUpload('u1', 0, { holder: 'a', until: 100 }, 1), false);
        assert.equal(await other.updateUpload('u1', 'b', { offset: 7, state: 'b', updatedAt: 11, expiresAt: 101 }), true);
        assert.equal((await t.store.getUpload('u1'))?.state, 'b');
      } finally {
        other.close();
      }
    });

    it('lists expired sessions oldest first, strictly before now, up to limit', async () => {
      await t.store.createUpload(upload('late', { expiresAt: 300 }));
      await t.store.createUpload(upload('b', { expiresAt: 100 }));
      await t.store.createUpload(upload('a', { expiresAt: 100 }));
      await t.store.createUpload(upload('first', { expiresAt: 50 }));
      await t.store.createUpload(upload('edge', { expiresAt: 200 }));
      assert.deepEqual((await t.store.listExpiredUploads(200, 10)).map((s) => s.id), ['first', 'a', 'b']);
      assert.deepEqual((await t.store.listExpiredUploads(200, 2)).map((s) => s.id), ['first', 'a']);
      assert.deepEqual(await t.store.listExpiredUploads(200, 0), []);
      assert.deepEqual(await t.store.listExpiredUploads(50, 10), []);
      const all = await t.store.listExpiredUploads(1_000, 10);
      assert.deepEqual(all.map((s) => s.id), ['first', 'a', 'b', 'edge', 'late']);
      assert.deepEqual(all[0], upload('first', { expiresAt: 50 }));
    });
  });
});
