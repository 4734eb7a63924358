// MetadataStore contract, what retention (issue 16 item 4) needs of a tag: when it was last pointed at
// a manifest (a move sets it, the same digest again does not), its last recorded pull (at most one
// write per tag per UTC day, only while the tag still points where the reader saw), and a delete that
// applies only while the tag is exactly as read (a push or pull since keeps it).
import { describe, expect, it } from 'vitest';
import type { MetadataStore, TagState } from '../../functions/core/ports.ts';
import type { GcMetadataStore } from '../../functions/core/gc-ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { manifest } from './fixtures.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1, 8, 0, 0);

export function tagTimesContract(s: StoreFixture): void {
  const store = () => s.current() as MetadataStore & GcMetadataStore;
  const tagOf = async (repo: string, tag: string): Promise<TagState | undefined> => (await store().gcRepository(repo)).tags.get(tag);

  describe('tag times and pulls (retention)', () => {
    it('a tag gets the put time when created or moved, keeps it when the same digest is put again, and loses its pull record when moved', async () => {
      const st = store();
      const a = { ...manifest(), createdAt: T0 };
      await st.putManifest('tt/app', a, ['v1', 'latest']);
      expect(await tagOf('tt/app', 'v1')).toEqual({ digest: a.digest, taggedAt: T0 });
      await st.putManifest('tt/app', { ...a, createdAt: T0 + DAY }, ['v1']);
      expect(await tagOf('tt/app', 'v1')).toEqual({ digest: a.digest, taggedAt: T0 });
      expect(await st.recordPull('tt/app', 'latest', a.digest, T0 + DAY)).toBe(true);
      const b = { ...manifest(), createdAt: T0 + 2 * DAY };
      await st.putManifest('tt/app', b, ['latest']);
      expect(await tagOf('tt/app', 'latest')).toEqual({ digest: b.digest, taggedAt: T0 + 2 * DAY });
    });

    it('records a pull at most once per UTC day, only while the tag points at the digest, and never creates a tag', async () => {
      const st = store();
      const a = { ...manifest(), createdAt: T0 };
      await st.putManifest('tt/pull', a, ['v1']);
      expect(await st.recordPull('tt/pull', 'v1', a.digest, T0 + 1000)).toBe(true);
      expect(await st.recordPull('tt/pull', 'v1', a.digest, T0 + 3_600_000)).toBe(false);
      expect((await tagOf('tt/pull', 'v1'))?.pulledAt).toBe(T0 + 1000);
      expect((await st.getTaggedManifest('tt/pull', 'v1'))?.pulledAt).toBe(T0 + 1000);
      expect((await st.headManifest('tt/pull', { tag: 'v1' }))?.pulledAt).toBe(T0 + 1000);
      const nextDay = T0 + DAY - 8 * 3_600_000; // 00:00 UTC the next day
      expect(await st.recordPull('tt/pull', 'v1', a.digest, nextDay)).toBe(true);
      expect((await tagOf('tt/pull', 'v1'))?.pulledAt).toBe(nextDay);
      expect(await st.recordPull('tt/pull', 'v1', manifest().digest, nextDay + 2 * DAY)).toBe(false);
      expect(await st.recordPull('tt/pull', 'gone', a.digest, nextDay + 2 * DAY)).toBe(false);
      expect(await st.getTaggedManifest('tt/pull', 'gone')).toBeUndefined();
      expect([...(await st.gcRepository('tt/pull')).tags.keys()]).toEqual(['v1']);
      // A read by digest says nothing of pulls.
      expect((await st.headManifest('tt/pull', { digest: a.digest }))?.pulledAt).toBeUndefined();
    });

    it('deletes a tag with `expect` only while digest, tag time and last pull are as seen', async () => {
      const st = store();
      const a = { ...manifest(), createdAt: T0 };
      const b = { ...manifest(), createdAt: T0 + DAY };
      await st.putManifest('tt/del', a, ['moved', 'pulled', 'recreated', 'same']);
      const seen = (await st.gcRepository('tt/del')).tags;
      await st.putManifest('tt/del', b, ['moved']);
      await st.recordPull('tt/del', 'pulled', a.digest, T0 + 2 * DAY);
      await st.deleteTag('tt/del', 'recreated');
      await st.putManifest('tt/del', { ...a, createdAt: T0 + 3 * DAY }, ['recreated']);
      for (const tag of ['moved', 'pulled', 'recreated']) expect(await st.deleteTag('tt/del', tag, seen.get(tag)), tag).toBe(false);
      expect(await st.deleteTag('tt/del', 'same', seen.get('same'))).toBe(true);
      expect(await st.deleteTag('tt/del', 'same', seen.get('same'))).toBe(false);
      expect([...(await st.gcRepository('tt/del')).tags.keys()].sort()).toEqual(['moved', 'pulled', 'recreated']);
      expect((await st.listTags('tt/del', 10)).items).toEqual(['moved', 'pulled', 'recreated']);
      // The tag is gone from the manifest's tags too: deleting the manifest leaves no tag behind.
      const now = await tagOf('tt/del', 'pulled');
      expect(await st.deleteTag('tt/del', 'pulled', now)).toBe(true);
      expect(await st.deleteManifest('tt/del', a.digest)).toBe(true);
      expect((await st.listTags('tt/del', 10)).items).toEqual(['moved']);
    });
  });
}
