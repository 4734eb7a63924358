// MetadataStore contract, storage quotas (docs/quotas.md): a project's usage counts each blob linked
// into any of its repositories once, whichever write linked it (linkBlob, recordBlob, recordUpload),
// and drops when the last link goes (unlinkBlob, a GC delete); a link write given a quota that it
// would exceed writes nothing and throws QuotaExceededError, also when writes race for the last room.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { BlobRecord, MetadataStore } from '../../functions/core/ports.ts';
import type { GcMetadataStore } from '../../functions/core/gc-ports.ts';
import { QuotaExceededError } from '../../functions/core/quota-ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { blob, linked, session } from './fixtures.ts';

const project = () => `q${randomBytes(4).toString('hex')}`;
const sized = (size: number): BlobRecord => ({ ...blob(), size });

export function quotaContract(s: StoreFixture): void {
  const store = () => s.current() as MetadataStore & GcMetadataStore;
  describe('storage quotas', () => {
    it('counts a blob once per project, however many of its repositories link it, and in each project that links it', async () => {
      const st = store();
      const p = project(), other = project();
      const a = sized(1000), b = sized(300);
      await linked(st, `${p}/one`, a);
      await linked(st, `${p}/two`, a);
      await linked(st, `${p}/one`, a); // written again: no second count
      await linked(st, `${p}/two/deep`, b);
      await linked(st, `${other}/one`, a);
      expect(await st.projectUsage(p)).toEqual({ bytes: 1300, blobs: 2 });
      expect(await st.projectUsage(p, a.digest)).toEqual({ bytes: 1300, blobs: 2, counted: true });
      expect(await st.projectUsage(other, b.digest)).toEqual({ bytes: 1000, blobs: 1, counted: false });
      expect(await st.projectUsage(project())).toEqual({ bytes: 0, blobs: 0 });
      // The count drops only when the project's last link of the digest goes.
      expect(await st.unlinkBlob(`${p}/one`, a.digest)).toBe(true);
      expect(await st.projectUsage(p)).toEqual({ bytes: 1300, blobs: 2 });
      expect(await st.unlinkBlob(`${p}/two`, a.digest)).toBe(true);
      expect(await st.projectUsage(p)).toEqual({ bytes: 300, blobs: 1 });
      expect(await st.unlinkBlob(`${p}/two`, a.digest)).toBe(false);
      expect(await st.projectUsage(p)).toEqual({ bytes: 300, blobs: 1 });
      expect(await st.projectUsage(other)).toEqual({ bytes: 1000, blobs: 1 });
    });

    it('a link beyond the quota writes nothing and throws; a blob the project counts, or a link there already, always links', async () => {
      const st = store();
      const p = project();
      const a = sized(600), b = sized(500);
      await st.putBlob(a);
      await st.putBlob(b);
      await st.linkBlob(`${p}/one`, a, 1000);
      const refused = await st.linkBlob(`${p}/one`, b, 1000).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(QuotaExceededError);
      expect(refused).toMatchObject({ project: p, used: 600, limit: 1000, size: 500 });
      expect(await st.getLinkedBlob(`${p}/one`, b.digest)).toBeUndefined();
      expect(await st.projectUsage(p)).toEqual({ bytes: 600, blobs: 1 });
      // A blob larger than the whole quota, in a fresh project.
      await expect(st.linkBlob(`${project()}/x`, b, 100)).rejects.toBeInstanceOf(QuotaExceededError);
      // Over the quota already (it was lowered): what is counted still links, in another repository too.
      await st.linkBlob(`${p}/one`, a, 10);
      await st.linkBlob(`${p}/two`, a, 10);
      expect(await st.projectUsage(p)).toEqual({ bytes: 600, blobs: 1 });
      // Exactly at the limit is allowed.
      await st.linkBlob(`${p}/two`, b, 1100);
      expect(await st.projectUsage(p)).toEqual({ bytes: 1100, blobs: 2 });
    });

    it('recordBlob and recordUpload count and refuse as linkBlob does; a refused upload keeps its session', async () => {
      const st = store();
      const p = project();
      const a = sized(700), b = sized(400);
      if (st.recordBlob) await st.recordBlob(`${p}/one`, a, 1000);
      else await linked(st, `${p}/one`, a);
      expect(await st.projectUsage(p)).toEqual({ bytes: 700, blobs: 1 });
      if (st.recordBlob) await expect(st.recordBlob(`${p}/one`, b, 1000)).rejects.toBeInstanceOf(QuotaExceededError);
      if (st.recordUpload) {
        const up = session(`${p}/one`);
        await st.createUpload(up);
        await expect(st.recordUpload(`${p}/one`, b, up.id, 1000)).rejects.toBeInstanceOf(QuotaExceededError);
        expect(await st.getUpload(up.id)).toBeDefined();
        expect(await st.recordUpload(`${p}/two`, a, up.id, 1000)).toMatchObject({ digest: a.digest });
        expect(await st.getUpload(up.id)).toBeUndefined();
      }
      expect(await st.getLinkedBlob(`${p}/one`, b.digest)).toBeUndefined();
      expect(await st.projectUsage(p)).toEqual({ bytes: 700, blobs: 1 });
    });

    it('a GC delete of the last link drops the count', async () => {
      const st = store();
      const p = project();
      const a = await linked(st, `${p}/one`, sized(2000));
      const t = { kind: 'link' as const, repo: `${p}/one`, digest: a.digest };
      expect(await st.gcMark(t, 5, Date.now() + 60_000)).toBe(true);
      expect(await st.gcDelete(t, 4)).toBe(false);
      expect(await st.projectUsage(p)).toEqual({ bytes: 2000, blobs: 1 });
      expect(await st.gcDelete(t, 5)).toBe(true);
      expect(await st.projectUsage(p)).toEqual({ bytes: 0, blobs: 0 });
    });

    it('of 6 links racing for room for 2, exactly 2 are written and the usage stays within the quota', async () => {
      const st = store();
      const p = project();
      const blobs = Array.from({ length: 6 }, () => sized(100));
      for (const b of blobs) await st.putBlob(b);
      const results = await Promise.allSettled(blobs.map((b, i) => st.linkBlob(`${p}/r${i % 2}`, b, 250)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(QuotaExceededError);
      expect(await st.projectUsage(p)).toEqual({ bytes: 200, blobs: 2 });
    });
  });
}
