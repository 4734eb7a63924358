// MetadataStore contract, blobs: the first verified record wins, links make a blob visible in one
// repository, linking registers the repository.
import { describe, expect, it } from 'vitest';
import type { StoreFixture } from './metadata-store.contract.ts';
import { blob, linked, randomDigest } from './fixtures.ts';

export function blobsContract(s: StoreFixture): void {
  describe('blobs', () => {
    it('keeps the first record of a digest and returns it to later writers', async () => {
      const store = s.current();
      const first = blob();
      const second = { ...blob(first.digest, 'blobs/other'), size: first.size };
      expect(await store.putBlob(first)).toEqual(first);
      expect(await store.putBlob(second)).toEqual(first);
      expect(await store.getBlob(first.digest)).toEqual(first);
      expect(await store.getBlob(randomDigest())).toBeUndefined();
    });

    it('concurrent first writers: all get the one stored record', async () => {
      const store = s.current();
      const digest = randomDigest();
      const candidates = Array.from({ length: 6 }, (_, i) => ({ ...blob(digest, `blobs/${i}`), size: 42 }));
      const results = await Promise.all(candidates.map((c) => store.putBlob(c)));
      const stored = await store.getBlob(digest);
      expect(stored).toBeDefined();
      expect(candidates).toContainEqual(stored);
      for (const r of results) expect(r).toEqual(stored);
    });

    it('a link makes the blob (with its location) visible in that repository only', async () => {
      const store = s.current();
      const b = blob();
      expect(await store.repositoryExists('team/app')).toBe(false);
      await store.putBlob(b);
      await store.linkBlob('team/app', b);
      await store.linkBlob('team/app', b);
      expect(await store.getLinkedBlob('team/app', b.digest)).toEqual(b);
      expect(await store.getLinkedBlob('team/other', b.digest)).toBeUndefined();
      expect(await store.repositoryExists('team/app')).toBe(true);
      expect(await store.repositoryExists('team/other')).toBe(false);
      expect(await store.unlinkBlob('team/app', b.digest)).toBe(true);
      expect(await store.unlinkBlob('team/app', b.digest)).toBe(false);
      expect(await store.getLinkedBlob('team/app', b.digest)).toBeUndefined();
      // The repository stays registered.
      expect(await store.repositoryExists('team/app')).toBe(true);
    });

    it('registers a repository once however many links arrive, concurrently too', async () => {
      const store = s.current();
      await Promise.all(Array.from({ length: 8 }, () => linked(store, 'busy')));
      await linked(store, 'busy');
      expect(await store.listRepositories(10)).toEqual({ items: ['busy'], more: false });
    });
  });
}
