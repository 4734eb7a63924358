// MetadataStore contract, listings: tags, referrers and repositories in byte order, paged with
// `last` (exclusive) and an exact `more`.
import { describe, expect, it } from 'vitest';
import type { Page } from '../../functions/core/ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { byteOrder, linked, manifest } from './fixtures.ts';

async function pages<T>(size: number, key: (item: T) => string, fetch: (limit: number, last?: string) => Promise<Page<T>>): Promise<{ items: T[]; pageCount: number }> {
  const items: T[] = [];
  let last: string | undefined;
  for (let pageCount = 1; ; pageCount++) {
    const page = await fetch(size, last);
    expect(page.items.length).toBeLessThanOrEqual(size);
    items.push(...page.items);
    if (!page.more) return { items, pageCount };
    expect(page.items.length).toBe(size);
    last = key(page.items[page.items.length - 1]!);
  }
}

export function listingsContract(s: StoreFixture): void {
  describe('listings', () => {
    it('lists tags in byte order, paged with last and an exact more', async () => {
      const store = s.current();
      const names = ['Z', 'a', '_x', '9', 'A-b', 'a.b', 'a-b', 'a_b', 'latest', 'v1.0', 'v1.10', 'v1.2', 'B', 'b', '0', 'zz', 'z', 'Y.1', 'y', 'x', 'w', 'v', 'u', 't', 's'];
      const shuffled = [...names].sort(() => Math.random() - 0.5);
      const m = manifest(), n = manifest();
      for (let i = 0; i < shuffled.length; i += 10) await store.putManifest('r', i % 20 === 0 ? m : n, shuffled.slice(i, i + 10));
      await store.putManifest('other', manifest(), ['other-only']);
      const sorted = [...names].sort(byteOrder);
      expect(await store.listTags('r', 100)).toEqual({ items: sorted, more: false });
      expect(await store.listTags('r', 25)).toEqual({ items: sorted, more: false });
      expect(await store.listTags('r', 24)).toEqual({ items: sorted.slice(0, 24), more: true });
      const paged = await pages(10, (t: string) => t, (limit, last) => store.listTags('r', limit, last));
      expect(paged).toEqual({ items: sorted, pageCount: 3 });
      // `last` need not be a tag; it is a position in the order.
      expect(await store.listTags('r', 3, 'a.a')).toEqual({ items: ['a.b', 'a_b', 'b'], more: true });
      expect(await store.listTags('r', 5, 'zz')).toEqual({ items: [], more: false });
      expect((await store.listTags('r', 0)).items).toEqual([]);
      expect(await store.listTags('empty', 10)).toEqual({ items: [], more: false });
    });

    it('lists referrers of a subject ordered by digest, paged, with descriptors', async () => {
      const store = s.current();
      const subject = manifest(), otherSubject = manifest();
      await store.putManifest('r', subject, ['base']);
      const refs = Array.from({ length: 5 }, (_, i) => manifest({
        subject: subject.digest, artifactType: `application/vnd.a${i}`, annotations: { 'org.opencontainers.image.created': `2024-01-0${i + 1}` },
      }));
      for (const m of refs) await store.putManifest('r', m, []);
      await store.putManifest('r', manifest({ subject: otherSubject.digest }), []);
      await store.putManifest('other', manifest({ subject: subject.digest }), []);
      const expected = refs
        .map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, artifactType: m.artifactType, annotations: m.annotations }))
        .sort((a, b) => byteOrder(a.digest, b.digest));
      expect(await store.listReferrers('r', subject.digest, 100)).toEqual({ items: expected, more: false });
      const paged = await pages(2, (d: { digest: string }) => d.digest, (limit, last) => store.listReferrers('r', subject.digest, limit, last));
      expect(paged).toEqual({ items: expected, pageCount: 3 });
      expect(await store.listReferrers('r', subject.digest, 5)).toEqual({ items: expected, more: false });
      expect(await store.listReferrers('r', subject.digest, 4)).toEqual({ items: expected.slice(0, 4), more: true });
      // A referrer without artifactType or annotations is a bare descriptor.
      const plain = manifest({ subject: otherSubject.digest });
      await store.putManifest('r', plain, []);
      const plainPage = await store.listReferrers('r', otherSubject.digest, 10);
      expect(plainPage.items).toContainEqual({ mediaType: plain.mediaType, digest: plain.digest, size: plain.size });
      // Deleting a referrer drops its entry.
      expect(await store.deleteManifest('r', expected[0]!.digest)).toBe(true);
      expect((await store.listReferrers('r', subject.digest, 100)).items).toEqual(expected.slice(1));
      expect(await store.listReferrers('r', manifest().digest, 10)).toEqual({ items: [], more: false });
    });

    it('lists repositories in byte order, paged, each once', async () => {
      const store = s.current();
      const names = ['b', 'a/b', 'a', 'a-b', 'a/b/c', 'ab', 'z/y', 'lib/x', 'lib.x', 'm'];
      for (const [i, name] of names.entries()) {
        if (i % 2 === 0) await store.putManifest(name, manifest(), ['v1']);
        else await linked(store, name);
        await store.putManifest(name, manifest(), ['v2']);
      }
      const sorted = [...names].sort(byteOrder);
      expect(await store.listRepositories(100)).toEqual({ items: sorted, more: false });
      expect(await store.listRepositories(10)).toEqual({ items: sorted, more: false });
      expect(await store.listRepositories(9)).toEqual({ items: sorted.slice(0, 9), more: true });
      const paged = await pages(4, (n: string) => n, (limit, last) => store.listRepositories(limit, last));
      expect(paged).toEqual({ items: sorted, pageCount: 3 });
      expect(await store.listRepositories(2, 'a/b')).toEqual({ items: sorted.slice(sorted.indexOf('a/b') + 1, sorted.indexOf('a/b') + 3), more: true });
      for (const name of names) expect(await store.repositoryExists(name)).toBe(true);
      expect(await store.repositoryExists('nope')).toBe(false);
    });
  });
}
