// MetadataStore contract, immutable tags (PutManifestOptions.immutable): an immutable tag that exists
// never moves to another manifest, nothing of such a put is written, the same digest again is
// accepted, a new immutable tag is created, and of puts racing to create one, exactly one wins.
import { describe, expect, it } from 'vitest';
import { TagImmutableError } from '../../functions/core/ports.ts';
import type { StoreFixture } from './metadata-store.contract.ts';
import { manifest } from './fixtures.ts';

export function immutableTagsContract(s: StoreFixture): void {
  describe('immutable tags', () => {
    it('an existing immutable tag does not move; the same digest again is accepted; mutable tags move', async () => {
      const store = s.current();
      const v1 = manifest();
      const other = manifest();
      const immutable = new Set(['v1']);
      await store.putManifest('imm/app', v1, ['v1', 'latest'], undefined, { immutable });
      const refused = await store.putManifest('imm/app', other, ['v1', 'latest'], undefined, { immutable }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TagImmutableError);
      expect(refused).toMatchObject({ tag: 'v1', current: v1.digest });
      // Nothing of the refused put was written: not the manifest, not the mutable tag beside it.
      expect(await store.getManifest('imm/app', other.digest)).toBeUndefined();
      expect((await store.headManifest('imm/app', { tag: 'latest' }))?.digest).toBe(v1.digest);
      expect((await store.headManifest('imm/app', { tag: 'v1' }))?.digest).toBe(v1.digest);
      // The same digest again (a client pushing twice), and the mutable tag moving alone.
      await store.putManifest('imm/app', v1, ['v1'], undefined, { immutable });
      await store.putManifest('imm/app', other, ['latest'], undefined, { immutable });
      expect((await store.headManifest('imm/app', { tag: 'latest' }))?.digest).toBe(other.digest);
      // Without the option, a tag is not immutable (the rule lives outside the store).
      await store.putManifest('imm/app', other, ['v1']);
      expect((await store.headManifest('imm/app', { tag: 'v1' }))?.digest).toBe(other.digest);
    });

    it('of 8 puts racing to create one immutable tag with different manifests, exactly one wins', async () => {
      const store = s.current();
      const contenders = Array.from({ length: 8 }, () => manifest());
      const results = await Promise.allSettled(contenders.map((m) => store.putManifest('imm/race', m, ['v1'], undefined, { immutable: new Set(['v1']) })));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!.digest] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TagImmutableError);
      expect((await store.headManifest('imm/race', { tag: 'v1' }))?.digest).toBe(won[0]);
    });
  });
}
