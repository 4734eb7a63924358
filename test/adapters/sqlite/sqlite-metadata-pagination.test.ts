// SqliteMetadataStore, listing tags and repositories: byte order (UTF-8, as DynamoDB's), limit,
// last and more.
// Against real temp-file databases, one per test (test/support/sqlite-metadata.ts).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { digestOf, manifest, sqliteMetadataStorePerTest } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

/** Expected order: SQLite BINARY collation == byte order of the UTF-8 encoding (DynamoDB's too). */
function byteSorted(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('SqliteMetadataStore', () => {
  describe('pagination', () => {
    const names = ['a_1', 'b', 'A', 'a.1', 'B', 'a', 'a-1'];
    const expected = ['A', 'B', 'a', 'a-1', 'a.1', 'a_1', 'b'];

    async function walk(list: (limit: number, last?: string) => Promise<{ items: string[]; more: boolean }>, limit: number) {
      const seen: string[] = [];
      let last: string | undefined;
      for (let i = 0; i < 100; i++) {
        const p = await list(limit, last);
        assert.ok(p.items.length <= limit);
        seen.push(...p.items);
        if (!p.more) return seen;
        assert.equal(p.items.length, limit, 'a page before the end is full');
        last = p.items.at(-1);
      }
      throw new Error('pagination did not terminate');
    }

    it('lists tags in byte order with limit, last and more', async () => {
      assert.deepEqual(byteSorted(names), expected);
      for (const [i, tag] of names.entries()) await t.store.putManifest('r/x', manifest(i), [tag]);
      await t.store.putManifest('r/other', manifest(99), ['zz']);
      const list = (limit: number, last?: string) => t.store.listTags('r/x', limit, last);
      assert.deepEqual(await list(100), { items: expected, more: false });
      assert.deepEqual(await list(7), { items: expected, more: false });
      assert.deepEqual(await list(6), { items: expected.slice(0, 6), more: true });
      assert.deepEqual(await list(2, 'a'), { items: ['a-1', 'a.1'], more: true });
      assert.deepEqual(await list(2, 'a.1'), { items: ['a_1', 'b'], more: false });
      assert.deepEqual(await list(10, 'a0'), { items: ['a_1', 'b'], more: false }, 'last need not exist');
      assert.deepEqual(await list(10, 'b'), { items: [], more: false });
      assert.deepEqual(await list(0), { items: [], more: true });
      assert.deepEqual(await list(0, 'a_1'), { items: [], more: true });
      assert.deepEqual(await list(0, 'b'), { items: [], more: false });
      for (const limit of [1, 2, 3, 7]) assert.deepEqual(await walk(list, limit), expected);
      assert.deepEqual(await t.store.listTags('r/empty', 5), { items: [], more: false });
    });

    it('lists repositories in byte order, including names with "/"', async () => {
      const repos = ['library/ubuntu', 'library', 'library-x/a', 'library/a/b', 'Library', 'a/b/c', 'a', 'a-b', 'a0'];
      const order = byteSorted(repos);
      assert.deepEqual(order, ['Library', 'a', 'a-b', 'a/b/c', 'a0', 'library', 'library-x/a', 'library/a/b', 'library/ubuntu']);
      for (const [i, repo] of repos.entries()) {
        if (i % 2 === 0) await t.store.putManifest(repo, manifest(i), []);
        else await t.store.linkBlob(repo, { digest: digestOf(i), size: 1, location: `blobs/${digestOf(i)}`, createdAt: 0 });
      }
      await t.store.putManifest('a', manifest(100), []); // an existing repository is not listed twice
      assert.deepEqual(await t.store.listRepositories(100), { items: order, more: false });
      assert.deepEqual(await t.store.listRepositories(3, 'a'), { items: ['a-b', 'a/b/c', 'a0'], more: true });
      assert.deepEqual(await t.store.listRepositories(2, 'library/a/b'), { items: ['library/ubuntu'], more: false });
      assert.deepEqual(await t.store.listRepositories(0), { items: [], more: true });
      assert.deepEqual(await t.store.listRepositories(0, 'library/ubuntu'), { items: [], more: false });
      for (const limit of [1, 2, 4, 9]) assert.deepEqual(await walk((l, last) => t.store.listRepositories(l, last), limit), order);
    });

    it('orders by UTF-8 bytes, not UTF-16 code units', async () => {
      // U+FFFD is EF BF BD in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16 the surrogate D83D sorts first.
      const tags = ['\u{1F600}', '\uFFFD', 'z'];
      for (const [i, tag] of tags.entries()) await t.store.putManifest('r/x', manifest(i), [tag]);
      assert.deepEqual((await t.store.listTags('r/x', 10)).items, ['z', '\uFFFD', '\u{1F600}']);
      assert.deepEqual((await t.store.listTags('r/x', 10, '\uFFFD')).items, ['\u{1F600}']);
    });
  });
});
