// MetadataStore contract, upload sessions: creation, leases (one holder at a time), updates by the
// holder only, release, deletion, expiry.
import { describe, expect, it } from 'vitest';
import type { StoreFixture } from './metadata-store.contract.ts';
import { session } from './fixtures.ts';

export function uploadsContract(s: StoreFixture): void {
  describe('upload sessions', () => {
    it('stores a session and reads it back; an unknown id is absent', async () => {
      const store = s.current();
      const up = session('a/b');
      await store.createUpload(up);
      expect(await store.getUpload(up.id)).toEqual(up);
      expect(await store.getUpload('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('leases only at the stored offset and only when no unexpired lease is held', async () => {
      const store = s.current();
      const up = session('r');
      await store.createUpload(up);
      const now = Date.now();
      expect(await store.leaseUpload(up.id, 5, { holder: 'a', until: now + 10_000 }, now)).toBe(false);
      expect(await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 10_000 }, now)).toBe(true);
      expect((await store.getUpload(up.id))?.lease).toEqual({ holder: 'a', until: now + 10_000 });
      expect(await store.leaseUpload(up.id, 0, { holder: 'b', until: now + 10_000 }, now)).toBe(false);
      // Once `until` has passed, another request may take it; the old holder can no longer record.
      expect(await store.leaseUpload(up.id, 0, { holder: 'b', until: now + 30_000 }, now + 10_000)).toBe(true);
      expect((await store.getUpload(up.id))?.lease).toEqual({ holder: 'b', until: now + 30_000 });
      expect(await store.updateUpload(up.id, 'a', { offset: 9, state: 'x', updatedAt: now, expiresAt: up.expiresAt })).toBe(false);
      expect((await store.getUpload(up.id))?.offset).toBe(0);
    });

    it('two concurrent leases: exactly one wins', async () => {
      const store = s.current();
      for (let round = 0; round < 5; round++) {
        const up = session('r');
        await store.createUpload(up);
        const now = Date.now();
        const results = await Promise.all(['a', 'b', 'c', 'd'].map((holder) => store.leaseUpload(up.id, 0, { holder, until: now + 60_000 }, now)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = ['a', 'b', 'c', 'd'][results.indexOf(true)];
        expect((await store.getUpload(up.id))?.lease?.holder).toBe(winner);
      }
    });

    it('records progress only for the holder, releasing the lease in the same write', async () => {
      const store = s.current();
      const up = session('r');
      await store.createUpload(up);
      const now = Date.now();
      const next = { offset: 1234, state: '{"parts":[1]}', updatedAt: now + 1, expiresAt: now + 7_200_000 };
      expect(await store.updateUpload(up.id, 'a', next)).toBe(false);
      expect(await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 60_000 }, now)).toBe(true);
      expect(await store.updateUpload(up.id, 'b', next)).toBe(false);
      expect(await store.updateUpload(up.id, 'a', next)).toBe(true);
      const after = await store.getUpload(up.id);
      expect(after).toEqual({ ...up, ...next });
      expect(after?.lease).toBeUndefined();
      // The lease is gone: the same holder cannot record again without a new lease.
      expect(await store.updateUpload(up.id, 'a', { ...next, offset: 2000 })).toBe(false);
      expect(await store.leaseUpload(up.id, 0, { holder: 'c', until: now + 60_000 }, now)).toBe(false);
      expect(await store.leaseUpload(up.id, 1234, { holder: 'c', until: now + 60_000 }, now)).toBe(true);
    });

    it('releases the lease only for its holder, leaving the session as it was', async () => {
      const store = s.current();
      const up = session('r', { offset: 10 });
      await store.createUpload(up);
      const now = Date.now();
      expect(await store.leaseUpload(up.id, 10, { holder: 'a', until: now + 60_000 }, now)).toBe(true);
      await store.releaseUpload(up.id, 'b');
      expect((await store.getUpload(up.id))?.lease?.holder).toBe('a');
      await store.releaseUpload(up.id, 'a');
      expect(await store.getUpload(up.id)).toEqual(up);
      expect(await store.leaseUpload(up.id, 10, { holder: 'b', until: now + 60_000 }, now)).toBe(true);
      await store.releaseUpload('00000000-0000-4000-8000-000000000000', 'a');
    });

    it('deletes a session once', async () => {
      const store = s.current();
      const up = session('r');
      await store.createUpload(up);
      expect(await store.deleteUpload(up.id)).toBe(true);
      expect(await store.deleteUpload(up.id)).toBe(false);
      expect(await store.getUpload(up.id)).toBeUndefined();
      const now = Date.now();
      expect(await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 60_000 }, now)).toBe(false);
    });

    it('treats an expired session as absent before anything deletes it', async () => {
      const store = s.current();
      const now = Date.now();
      const up = session('r', { createdAt: now - 7_200_000, updatedAt: now - 7_200_000, expiresAt: now - 1000 });
      await store.createUpload(up);
      expect(await store.getUpload(up.id)).toBeUndefined();
      expect(await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 60_000 }, now)).toBe(false);
      expect(await store.deleteUpload(up.id)).toBe(false);
      // A live session next to it is unaffected.
      const live = session('r');
      await store.createUpload(live);
      expect(await store.getUpload(live.id)).toEqual(live);
    });
  });
}
