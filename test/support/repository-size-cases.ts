// MetadataStore.repositorySize on a real store (run by test/adapters/sqlite/sqlite-repository-size.test.ts
// and test/adapters/dynamodb/dynamo-quota.test.ts): the distinct blobs a repository links,
// summed; a blob two repositories link counts in each; its manifests, tags and referrers, and other
// repositories' links (a name that extends it too), count nothing.
import { expect, it } from 'vitest';
import type { BlobRecord, MetadataStore } from '../../functions/core/ports.ts';
import type { RepositorySize } from '../../functions/core/quota-ports.ts';
import { blob, linked, manifest } from '../contract/fixtures.ts';

/** The store's repositorySize, which it must have. */
export function sizeOf(store: MetadataStore, repo: string, maxLinks = 10_000): Promise<RepositorySize> {
  if (!store.repositorySize) throw new Error('this store has no repositorySize');
  return store.repositorySize(repo, maxLinks);
}

const sized = (size: number): BlobRecord => ({ ...blob(), size });

export function repositorySizeCases(store: () => MetadataStore): void {
  it('sums the distinct blobs a repository links; a blob shared by two repositories counts in each', async () => {
    const s = store();
    const shared = await linked(s, 'team/app', sized(700));
    await linked(s, 'team/app', sized(300));
    await s.linkBlob('team/app', shared); // again: still one link
    await s.linkBlob('team/web', shared);
    await linked(s, 'team/web', sized(5));
    await linked(s, 'team/app2', sized(11));
    await linked(s, 'team/app/sub', sized(13));
    // Manifests, tags and referrers live beside the links and are no blob of the repository.
    const image = manifest();
    await s.putManifest('team/app', image, ['v1', 'latest']);
    await s.putManifest('team/app', manifest({ subject: image.digest, artifactType: 'application/example' }), []);
    expect(await sizeOf(s, 'team/app')).toEqual({ bytes: 1000, blobs: 2, complete: true });
    expect(await sizeOf(s, 'team/web')).toEqual({ bytes: 705, blobs: 2, complete: true });
    expect(await sizeOf(s, 'team/none')).toEqual({ bytes: 0, blobs: 0, complete: true });
    // Its project stores the shared blob once (docs/quotas.md): the sizes add up to more.
    expect((await s.projectUsage('team')).bytes).toBe(700 + 300 + 5 + 11 + 13);
    // An unlinked blob leaves that repository's size only.
    await s.unlinkBlob('team/app', shared.digest);
    expect(await sizeOf(s, 'team/app')).toEqual({ bytes: 300, blobs: 1, complete: true });
    expect(await sizeOf(s, 'team/web')).toEqual({ bytes: 705, blobs: 2, complete: true });
  });
}
