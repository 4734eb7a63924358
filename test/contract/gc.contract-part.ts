// MetadataStore contract, garbage collection (GcMetadataStore): what a repository read returns, marks
// that only apply to old unmarked items, deletes that only apply while the mark seen is still there,
// and the hot-path writes that take a mark away (the item is needed again).
import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../functions/core/ports.ts';
import type { GcMetadataStore } from '../../functions/core/gc-ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { blob, linked, manifest } from './fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function gcContract(s: StoreFixture): void {
  const store = () => s.current() as MetadataStore & GcMetadataStore;
  describe('garbage collection', () => {
    it('reads a repository whole: tags, manifests with references and subject, links with their time', async () => {
      const st = store();
      const before = Date.now();
      const l = await linked(st, 'gc/read');
      const m = manifest();
      const r = manifest({ subject: m.digest });
      await st.putManifest('gc/read', m, ['v1']);
      await st.putManifest('gc/read', r, []);
      const repo = await st.gcRepository('gc/read');
      expect([...repo.tags.keys()]).toEqual(['v1']);
      expect(repo.tags.get('v1')).toEqual({ digest: m.digest, taggedAt: m.createdAt });
      expect(repo.manifests.map((x) => x.digest).sort()).toEqual([m.digest, r.digest].sort());
      const got = repo.manifests.find((x) => x.digest === m.digest)!;
      expect(got).toMatchObject({ blobs: m.blobs, manifests: m.manifests, size: m.size, stored: [] });
      expect(got.markedAt).toBeUndefined();
      expect(repo.manifests.find((x) => x.digest === r.digest)?.subject).toBe(m.digest);
      expect(repo.links).toHaveLength(1);
      expect(repo.links[0]).toMatchObject({ digest: l.digest, size: l.size });
      expect(repo.links[0]!.linkedAt).toBeGreaterThanOrEqual(before);
    });

    it('marks only an unmarked item written no later than notAfter; deletes only with the mark seen', async () => {
      const st = store();
      const l = await linked(st, 'gc/mark');
      const t = { kind: 'link' as const, repo: 'gc/mark', digest: l.digest };
      expect(await st.gcMark(t, 5, Date.now() - 60_000)).toBe(false);
      const at = Date.now();
      expect(await st.gcMark(t, at, Date.now())).toBe(true);
      expect(await st.gcMark(t, at + 1, Date.now())).toBe(false);
      expect((await st.gcRepository('gc/mark')).links[0]?.markedAt).toBe(at);
      expect(await st.gcDelete(t, at + 1)).toBe(false);
      expect(await st.gcDelete(t, at)).toBe(true);
      expect(await st.getLinkedBlob('gc/mark', l.digest)).toBeUndefined();
      expect(await st.gcDelete(t, at)).toBe(false);
    });

    it('takes the mark away when the item is needed again: re-recorded blob, re-linked blob, re-pushed manifest, unmark', async () => {
      const st = store();
      const b = blob();
      await linked(st, 'gc/revive', b);
      const m = manifest();
      await st.putManifest('gc/revive', m, []);
      await sleep(5);
      const now = Date.now();
      const blobT = { kind: 'blob' as const, digest: b.digest };
      const linkT = { kind: 'link' as const, repo: 'gc/revive', digest: b.digest };
      const manT = { kind: 'manifest' as const, repo: 'gc/revive', digest: m.digest };
      for (const t of [blobT, linkT, manT]) expect(await st.gcMark(t, now, now)).toBe(true);
      expect((await st.getReferences('gc/revive', [b.digest, m.digest])).marked).toEqual(new Set([b.digest, m.digest]));
      await st.putBlob({ ...b, location: 'blobs/elsewhere' });
      await st.linkBlob('gc/revive', b);
      await st.putManifest('gc/revive', m, ['v2']);
      for (const t of [blobT, linkT, manT]) expect(await st.gcDelete(t, now), t.kind).toBe(false);
      expect((await st.getReferences('gc/revive', [b.digest, m.digest])).marked).toBeUndefined();
      expect(await st.gcMark(manT, now + 1, Date.now())).toBe(true);
      expect(await st.gcUnmark(manT)).toBe(true);
      expect(await st.gcDelete(manT, now + 1)).toBe(false);
      expect(await st.gcUnmark({ kind: 'manifest', repo: 'gc/revive', digest: manifest().digest })).toBe(false);
    });

    it('deletes a marked referrer only while its subject is gone or marked too; a tagged manifest never', async () => {
      const st = store();
      const subject = manifest();
      const ref = manifest({ subject: subject.digest });
      await st.putManifest('gc/ref', subject, []);
      await st.putManifest('gc/ref', ref, []);
      await sleep(5);
      const at = Date.now();
      const refT = { kind: 'manifest' as const, repo: 'gc/ref', digest: ref.digest };
      expect(await st.gcMark(refT, at, at)).toBe(true);
      expect(await st.gcDelete(refT, at)).toBe(false);
      expect(await st.gcMark({ kind: 'manifest', repo: 'gc/ref', digest: subject.digest }, at, at)).toBe(true);
      expect(await st.gcDelete(refT, at)).toBe(true);
      expect((await st.listReferrers('gc/ref', subject.digest, 10)).items).toEqual([]);
    });

    it('pages through blob records: each once, with its touch time and mark', async () => {
      const st = store();
      const made = await Promise.all(Array.from({ length: 7 }, () => st.putBlob(blob())));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await st.gcBlobs(3, cursor);
        for (const b of page.items) {
          expect(b.touchedAt).toBeGreaterThan(0);
          seen.push(b.digest);
        }
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(seen.filter((d) => made.some((m) => m.digest === d)).sort()).toEqual(made.map((m) => m.digest).sort());
      expect(new Set(seen).size).toBe(seen.length);
    });
  });
}
