// MetadataStore contract, manifests and tags: byte-exact round trips (small and 4 MiB bodies), tags
// moving between manifests (also racing), deletes that take every tag along, batch reference reads.
import { describe, expect, it } from 'vitest';
import type { ManifestRecord, MetadataStore } from '../../functions/core/ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { linked, manifest, randomDigest } from './fixtures.ts';

const head = (m: ManifestRecord) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size });

async function expectStored(store: MetadataStore, repo: string, m: ManifestRecord, tag?: string) {
  const got = await store.getManifest(repo, m.digest);
  expect(got).toBeDefined();
  expect(Buffer.from(got!.body).equals(Buffer.from(m.body))).toBe(true);
  expect({ ...got, body: undefined }).toEqual({ ...m, body: undefined });
  expect(await store.headManifest(repo, { digest: m.digest })).toEqual(head(m));
  if (tag !== undefined) {
    const tagged = await store.getTaggedManifest(repo, tag);
    expect(tagged).toBeDefined();
    expect(Buffer.from(tagged!.body).equals(Buffer.from(m.body))).toBe(true);
    expect({ ...tagged, body: undefined }).toEqual({ ...m, body: undefined });
    expect(await store.headManifest(repo, { tag })).toEqual(head(m));
  }
}

export function manifestsContract(s: StoreFixture): void {
  describe('manifests and tags', () => {
    it('stores a manifest byte-exact with every field; reads by digest and by tag', async () => {
      const store = s.current();
      const m = manifest({ subject: randomDigest(), artifactType: 'application/vnd.example+json', annotations: { 'org.example': 'ü ✓' } });
      await store.putManifest('lib/app', m, ['v1']);
      await expectStored(store, 'lib/app', m, 'v1');
      const index = manifest({ index: true });
      await store.putManifest('lib/app', index, []);
      await expectStored(store, 'lib/app', index);
      expect(await store.repositoryExists('lib/app')).toBe(true);
      // Absent: unknown digest or tag, or another repository.
      expect(await store.getManifest('lib/app', randomDigest())).toBeUndefined();
      expect(await store.getManifest('lib/other', m.digest)).toBeUndefined();
      expect(await store.getTaggedManifest('lib/app', 'nope')).toBeUndefined();
      expect(await store.getTaggedManifest('lib/other', 'v1')).toBeUndefined();
      expect(await store.headManifest('lib/app', { tag: 'nope' })).toBeUndefined();
      expect(await store.headManifest('lib/other', { digest: m.digest })).toBeUndefined();
    });

    it('large manifests round-trip byte-exact: 200 KiB and 4 MiB', async () => {
      const store = s.current();
      for (const bodySize of [200 * 1024, 4 * 1024 * 1024 - 64]) {
        const m = manifest({ bodySize, subject: randomDigest() });
        expect(m.size).toBeGreaterThan(bodySize - 100);
        await store.putManifest('big', m, [`s${bodySize}`]);
        await expectStored(store, 'big', m, `s${bodySize}`);
      }
    });

    it('a 4 MiB index with 20,000 children and 1 MB of annotations round-trips, also as a referrer', async () => {
      const store = s.current();
      const subject = manifest();
      await store.putManifest('r', subject, []);
      const big = manifest({ index: true, children: 20_000, subject: subject.digest, artifactType: 'application/vnd.big', annotations: { huge: 'a'.repeat(1_000_000) } });
      expect(big.size).toBeLessThanOrEqual(4 * 1024 * 1024);
      await store.putManifest('r', big, ['big']);
      await expectStored(store, 'r', big, 'big');
      expect(await store.listReferrers('r', subject.digest, 10)).toEqual({
        items: [{ mediaType: big.mediaType, digest: big.digest, size: big.size, artifactType: 'application/vnd.big', annotations: big.annotations }],
        more: false,
      });
      expect((await store.getReferences('r', [big.digest])).manifests.get(big.digest)).toEqual(head(big));
      expect(await store.deleteManifest('r', big.digest)).toBe(true);
      expect(await store.getTaggedManifest('r', 'big')).toBeUndefined();
    });

    it('points several tags at a manifest in one put; a repeated put is idempotent and adds tags', async () => {
      const store = s.current();
      const m = manifest();
      await store.putManifest('r', m, ['a', 'b', 'c']);
      await store.putManifest('r', { ...m, createdAt: m.createdAt + 5000 }, ['c', 'd']);
      await store.putManifest('r', m, []);
      expect((await store.listTags('r', 100)).items).toEqual(['a', 'b', 'c', 'd']);
      // The first put's record stays (creation time included); tags added later carry it too.
      for (const tag of ['a', 'b', 'c', 'd']) expect((await store.getTaggedManifest('r', tag))?.createdAt).toBe(m.createdAt);
      await expectStored(store, 'r', m, 'd');
    });

    it('moves a tag; deleting the old manifest then leaves the moved tag alone', async () => {
      const store = s.current();
      const a = manifest(), b = manifest();
      await store.putManifest('r', a, ['t', 'only-a']);
      await store.putManifest('r', b, ['t']);
      expect(await store.headManifest('r', { tag: 't' })).toEqual(head(b));
      expect((await store.getTaggedManifest('r', 't'))?.digest).toBe(b.digest);
      expect(await store.deleteManifest('r', a.digest)).toBe(true);
      expect((await store.listTags('r', 10)).items).toEqual(['t']);
      expect(await store.headManifest('r', { tag: 'only-a' })).toBeUndefined();
      expect(await store.deleteManifest('r', b.digest)).toBe(true);
      expect((await store.listTags('r', 10)).items).toEqual([]);
    });

    it('tag move race: concurrent puts of one tag leave it on exactly one manifest, consistently indexed', async () => {
      const store = s.current();
      for (let round = 0; round < 4; round++) {
        const tag = `race${round}`;
        const contenders = [manifest(), manifest(), manifest()];
        await Promise.all(contenders.map((m) => store.putManifest('r', m, [tag])));
        const winner = (await store.headManifest('r', { tag }))?.digest;
        expect(contenders.map((m) => m.digest)).toContain(winner);
        expect((await store.getTaggedManifest('r', tag))?.digest).toBe(winner);
        // Deleting the losers keeps the tag; deleting the winner takes it.
        for (const m of contenders.filter((c) => c.digest !== winner)) expect(await store.deleteManifest('r', m.digest)).toBe(true);
        expect((await store.headManifest('r', { tag }))?.digest).toBe(winner);
        expect(await store.deleteManifest('r', winner!)).toBe(true);
        expect(await store.headManifest('r', { tag })).toBeUndefined();
      }
      expect((await store.listTags('r', 100)).items).toEqual([]);
    });

    it('concurrent puts of one manifest with different tags keep every tag', async () => {
      const store = s.current();
      const m = manifest();
      await Promise.all(['x1', 'x2', 'x3', 'x4'].map((tag) => store.putManifest('r', m, [tag])));
      expect((await store.listTags('r', 10)).items).toEqual(['x1', 'x2', 'x3', 'x4']);
      expect(await store.deleteManifest('r', m.digest)).toBe(true);
      expect((await store.listTags('r', 10)).items).toEqual([]);
    });

    it('concurrent delete and re-tag of one manifest never leave a tag pointing at a missing manifest', async () => {
      const store = s.current();
      for (let round = 0; round < 25; round++) {
        const m = manifest();
        await store.putManifest('r', m, [`old${round}`]);
        const [deleted] = await Promise.all([store.deleteManifest('r', m.digest), store.putManifest('r', m, [`new${round}`])]);
        expect(deleted).toBe(true);
        const stored = await store.getManifest('r', m.digest);
        const tags = (await store.listTags('r', 100)).items.filter((t) => t.endsWith(String(round)));
        if (stored === undefined) expect(tags).toEqual([]);
        for (const tag of tags) {
          expect(stored).toBeDefined();
          expect((await store.getTaggedManifest('r', tag))?.digest).toBe(m.digest);
        }
        // Whatever the outcome, one more delete leaves nothing behind.
        await store.deleteManifest('r', m.digest);
        expect((await store.listTags('r', 100)).items.filter((t) => t.endsWith(String(round)))).toEqual([]);
      }
    });

    it('deletes a tag without touching its manifest', async () => {
      const store = s.current();
      const m = manifest();
      await store.putManifest('r', m, ['keep', 'drop']);
      expect(await store.deleteTag('r', 'drop')).toBe(true);
      expect(await store.deleteTag('r', 'drop')).toBe(false);
      expect(await store.deleteTag('other', 'keep')).toBe(false);
      expect(await store.getTaggedManifest('r', 'drop')).toBeUndefined();
      expect((await store.getManifest('r', m.digest))?.digest).toBe(m.digest);
      expect(await store.deleteManifest('r', m.digest)).toBe(true);
      expect((await store.listTags('r', 10)).items).toEqual([]);
      // The tag can be used again afterwards.
      const n = manifest();
      await store.putManifest('r', n, ['drop']);
      expect((await store.getTaggedManifest('r', 'drop'))?.digest).toBe(n.digest);
    });

    it('deleteManifest removes every tag pointing at it (more than one transaction holds) and its referrer entry', async () => {
      const store = s.current();
      const subject = manifest();
      const m = manifest({ subject: subject.digest, artifactType: 'application/vnd.sig' });
      const other = manifest();
      await store.putManifest('r', subject, ['base']);
      await store.putManifest('r', other, ['other']);
      const tags = Array.from({ length: 120 }, (_, i) => `t${String(i).padStart(3, '0')}`);
      for (let i = 0; i < tags.length; i += 10) await store.putManifest('r', m, tags.slice(i, i + 10));
      expect((await store.listTags('r', 1000)).items).toHaveLength(122);
      expect((await store.listReferrers('r', subject.digest, 10)).items.map((d) => d.digest)).toEqual([m.digest]);
      expect(await store.deleteManifest('r', m.digest)).toBe(true);
      expect(await store.deleteManifest('r', m.digest)).toBe(false);
      expect(await store.getManifest('r', m.digest)).toBeUndefined();
      expect(await store.headManifest('r', { tag: 't000' })).toBeUndefined();
      expect((await store.listTags('r', 1000)).items).toEqual(['base', 'other']);
      expect((await store.listReferrers('r', subject.digest, 10)).items).toEqual([]);
      expect(await store.deleteManifest('r', randomDigest())).toBe(false);
    });

    it('getReferences reads linked blobs and stored manifests of this repository in one call', async () => {
      const store = s.current();
      const here = await linked(store, 'r');
      const elsewhere = await linked(store, 'other');
      const m = manifest(), foreign = manifest();
      await store.putManifest('r', m, []);
      await store.putManifest('other', foreign, []);
      const unknown = Array.from({ length: 96 }, () => randomDigest());
      const refs = await store.getReferences('r', [here.digest, elsewhere.digest, m.digest, foreign.digest, ...unknown]);
      expect([...refs.blobs.entries()]).toEqual([[here.digest, here]]);
      expect([...refs.manifests.entries()]).toEqual([[m.digest, head(m)]]);
      const none = await store.getReferences('r', []);
      expect(none.blobs.size + none.manifests.size).toBe(0);
    });
  });
}
