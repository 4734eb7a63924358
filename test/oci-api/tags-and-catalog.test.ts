// Tag listing (end-8a/8b) and the catalog: ordering, n/last paging, Link headers.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import type { Client} from './client.ts';
import { registryPerFile, OCI_MANIFEST, bodyJson, expectError, expectStatus, json, uniqueRepo, type Reply } from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

/** Byte order (all names here are ASCII, so UTF-16 order is byte order). */
const byteOrder = (xs: string[]): string[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Pushes one manifest under every tag in `tags` (a few at a time). */
async function tagAll(repo: string, tags: string[]): Promise<void> {
  const body = json(await c.imageManifest(repo));
  const queue = [...tags];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        const r = await c.putManifest(repo, t, body, OCI_MANIFEST);
        expectStatus(r, 201);
      }
    }),
  );
}

function tagsOf(r: Reply, repo: string): string[] {
  expectStatus(r, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/, r.where);
  const b = bodyJson<{ name: string; tags: string[] }>(r);
  assert.equal(b.name, repo, r.where);
  assert.ok(Array.isArray(b.tags), r.where);
  return b.tags;
}

/** Parses `Link: <url>; rel="next"`; asserts the format; returns the URL, or null without a Link. */
function nextLink(r: Reply, path: string, n: number): { url: string; last: string } | null {
  const link = r.headers.get('link');
  if (link === null) return null;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(m, `Link format: ${link}`);
  const target = m[1] ?? '';
  const prefix = `${path}?n=${n}&last=`;
  assert.ok(target.startsWith(prefix), `Link should be <${prefix}...>: ${link}`);
  return { url: target, last: decodeURIComponent(target.slice(prefix.length)) };
}

describe('GET /v2/<name>/tags/list', () => {
  const tags = ['latest', 'v1', 'v10', 'v2', 'V3', 'a', 'a-b', 'a.b', 'a_b', 'A', '_z', '0', '9.9', 'z'];

  it('lists every tag in byte order', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, tags);
    assert.deepEqual(tagsOf(await c.get(`/v2/${repo}/tags/list`), repo), byteOrder(tags));
  });

  it('n and last; Link header only when more remain; following Link to the end yields every tag once', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, tags);
    const all = byteOrder(tags);
    const path = `/v2/${repo}/tags/list`;

    const first = await c.get(`${path}?n=3`);
    assert.deepEqual(tagsOf(first, repo), all.slice(0, 3));
    const link = nextLink(first, path, 3);
    assert.ok(link, `Link expected: ${first.where}`);
    assert.equal(link.last, all[2]);

    const seen: string[] = [];
    let url: string | null = `${path}?n=3`;
    let pages = 0;
    while (url !== null) {
      const r = await c.get(url);
      const page = tagsOf(r, repo);
      assert.ok(page.length <= 3, r.where);
      seen.push(...page);
      url = nextLink(r, path, 3)?.url ?? null;
      pages += 1;
      assert.ok(pages <= tags.length, 'paging does not end');
    }
    assert.deepEqual(seen, all);
    assert.equal(pages, Math.ceil(all.length / 3));

    // Exactly all remaining: no Link.
    const exact = await c.get(`${path}?n=${all.length}`);
    assert.deepEqual(tagsOf(exact, repo), all);
    assert.equal(exact.headers.get('link'), null, exact.where);
    const bigger = await c.get(`${path}?n=${all.length + 5}`);
    assert.deepEqual(tagsOf(bigger, repo), all);
    assert.equal(bigger.headers.get('link'), null, bigger.where);
  });

  it('last alone, and last that is not a tag', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, tags);
    const all = byteOrder(tags);
    const path = `/v2/${repo}/tags/list`;
    assert.deepEqual(tagsOf(await c.get(`${path}?last=v1`), repo), all.filter((t) => t > 'v1'));
    assert.deepEqual(tagsOf(await c.get(`${path}?last=b`), repo), all.filter((t) => t > 'b'));
    const r = await c.get(`${path}?n=2&last=a.b`);
    assert.deepEqual(tagsOf(r, repo), all.filter((t) => t > 'a.b').slice(0, 2));
    assert.equal(nextLink(r, path, 2)?.last, all.filter((t) => t > 'a.b')[1]);
    const end = await c.get(`${path}?last=zzz`);
    assert.deepEqual(tagsOf(end, repo), []);
    assert.equal(end.headers.get('link'), null);
  });

  it('n=0 -> empty list and no Link (v1.1: MUST NOT include a Link header)', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, ['a', 'b']);
    const r = await c.get(`/v2/${repo}/tags/list?n=0`);
    assert.deepEqual(tagsOf(r, repo), []);
    assert.equal(r.headers.get('link'), null, r.where);
  });

  it('n not a non-negative integer -> 400 PAGINATION_NUMBER_INVALID', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, ['a']);
    for (const n of ['-1', 'abc', '1.5', '1e3', '0x10', '+5']) {
      expectError(await c.get(`/v2/${repo}/tags/list?n=${encodeURIComponent(n)}`), 400, 'PAGINATION_NUMBER_INVALID');
    }
  });

  it('n above 1000 is capped at 1000, with a Link to the rest', async () => {
    const repo = uniqueRepo('tags');
    const many = Array.from({ length: 1003 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    await tagAll(repo, many);
    const path = `/v2/${repo}/tags/list`;
    const r = await c.get(`${path}?n=5000`);
    const page = tagsOf(r, repo);
    assert.equal(page.length, 1000);
    assert.deepEqual(page, many.slice(0, 1000));
    const link = r.headers.get('link');
    assert.ok(link, `Link expected: ${r.where}`);
    const m = /^<([^>]+)>; rel="next"$/.exec(link);
    assert.ok(m, link);
    const next = new URL(m[1] ?? '', c.base);
    assert.equal(next.pathname, path);
    assert.equal(next.searchParams.get('last'), many[999]);
    const rest = await c.get(m[1] ?? '');
    assert.deepEqual(tagsOf(rest, repo), many.slice(1000));
    assert.equal(rest.headers.get('link'), null);
  });

  it('a deleted tag disappears from the list', async () => {
    const repo = uniqueRepo('tags');
    await tagAll(repo, ['keep', 'drop']);
    expectStatus(await c.delete(`/v2/${repo}/manifests/drop`), 202);
    assert.deepEqual(tagsOf(await c.get(`/v2/${repo}/tags/list`), repo), ['keep']);
  });

  it('unknown repository -> 404 NAME_UNKNOWN', async () => {
    expectError(await c.get(`/v2/${uniqueRepo('ghost')}/tags/list`), 404, 'NAME_UNKNOWN');
    expectError(await c.get(`/v2/${uniqueRepo('ghost')}/tags/list?n=10`), 404, 'NAME_UNKNOWN');
  });
});

describe('GET /v2/_catalog', () => {
  function reposOf(r: Reply): string[] {
    expectStatus(r, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/, r.where);
    const b = bodyJson<{ repositories: string[] }>(r);
    assert.ok(Array.isArray(b.repositories), r.where);
    return b.repositories;
  }

  it('lists repositories in byte order and pages with n/last/Link to the end', async () => {
    // Names that sort differently by bytes than by components: '-' < '.' < '/' < '_'.
    const ours = ['cat/a', 'cat-a', 'cat.a', 'cat_a', 'cat/a/b', 'cat/a-b', 'cat0'];
    for (const repo of ours) await tagAll(repo, ['v1']);
    const all = reposOf(await c.get('/v2/_catalog'));
    assert.deepEqual(all, byteOrder(all), 'catalog must be in byte order');
    assert.equal(new Set(all).size, all.length, 'no duplicates');
    for (const repo of ours) assert.ok(all.includes(repo), `${repo} missing from ${JSON.stringify(all)}`);
    const ordered = all.filter((x) => ours.includes(x));
    assert.deepEqual(ordered, byteOrder(ours));

    const seen: string[] = [];
    let url: string | null = '/v2/_catalog?n=2';
    let pages = 0;
    while (url !== null) {
      const r = await c.get(url);
      const page = reposOf(r);
      assert.ok(page.length <= 2, r.where);
      seen.push(...page);
      const link = nextLink(r, '/v2/_catalog', 2);
      if (link !== null) assert.equal(link.last, page[page.length - 1], `Link last: ${r.where}`);
      url = link?.url ?? null;
      pages += 1;
      assert.ok(pages <= all.length + 1, 'paging does not end');
    }
    // Other tests of this file may add repositories meanwhile; ours are all seen, in order, once.
    assert.deepEqual(seen, byteOrder(seen));
    assert.equal(new Set(seen).size, seen.length);
    for (const repo of all) assert.ok(seen.includes(repo), `${repo} not reached by paging`);

    const tail = reposOf(await c.get(`/v2/_catalog?last=${encodeURIComponent('cat.a')}`));
    assert.deepEqual(tail, all.filter((x) => x > 'cat.a'));
  });

  it('n=0 -> empty list; invalid n -> 400 PAGINATION_NUMBER_INVALID', async () => {
    await tagAll(uniqueRepo('catn'), ['v1']);
    const zero = await c.get('/v2/_catalog?n=0');
    assert.deepEqual(reposOf(zero), []);
    assert.equal(zero.headers.get('link'), null, zero.where);
    for (const n of ['-1', 'x', '2.5']) expectError(await c.get(`/v2/_catalog?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });
});
