// SqliteMetadataStore.repositorySize (sqlite-quota.ts): one query over the repository's links, all
// of them, so always complete, whatever maxLinks.
import { expect, it } from 'vitest';
import { linked } from '../../contract/fixtures.ts';
import { repositorySizeCases, sizeOf } from '../../support/repository-size-cases.ts';
import { sqliteMetadataStorePerTest } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

repositorySizeCases(() => t.store);

it('reads every link, beyond maxLinks too: complete', async () => {
  const blobs = await Promise.all([1, 2, 3].map(() => linked(t.store, 'team/many')));
  expect(await sizeOf(t.store, 'team/many', 1)).toEqual({ bytes: blobs.reduce((sum, b) => sum + b.size, 0), blobs: 3, complete: true });
});
