// Listings through the core on real adapters: tags and catalog in byte order with n/last paging
// and Link headers, the page size cap, and referrers with their artifactType filter.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { OCI_INDEX, OCI_MANIFEST, artifact, assertError, putManifest, setup, sha256, utf8 } from './real-adapters.ts';

describe('listings through the core', () => {
  it('tags: byte order, n/last paging with Link, n=0, invalid n, unknown repository', async (t) => {
    const f = await setup(t);
    const body = artifact('tags');
    const tags = ['b', 'a', 'B', '_x', '1', 'a.b', 'a-b', 'Z9'];
    for (const tag of tags) assert.equal((await putManifest(f, 'r/t', tag, body)).status, 201);
    const sorted = [...tags].sort((x, y) => Buffer.compare(utf8(x), utf8(y)));

    const all = await f.call('GET', '/v2/r/t/tags/list');
    assert.equal(all.status, 200, all.where);
    assert.deepEqual(all.json(), { name: 'r/t', tags: sorted });
    assert.equal(all.headers.link, undefined);

    const collected: string[] = [];
    let next: string | undefined = '/v2/r/t/tags/list?n=3';
    let pages = 0;
    while (next) {
      const r = await f.call('GET', next);
      assert.equal(r.status, 200, r.where);
      const page = (r.json() as { tags: string[] }).tags;
      assert.ok(page.length <= 3, r.where);
      collected.push(...page);
      pages += 1;
      const m = r.headers.link ? /^<([^>]+)>; rel="next"$/.exec(r.headers.link) : null;
      if (r.headers.link) {
        assert.ok(m, `Link header format: ${r.headers.link}`);
        assert.match(m?.[1] ?? '', /^\/v2\/r\/t\/tags\/list\?n=3&last=[^&]+$/);
      }
      next = m?.[1];
      assert.ok(pages < 10, 'paging terminates');
    }
    assert.deepEqual(collected, sorted);
    assert.equal(pages, 3);

    const afterLast = await f.call('GET', `/v2/r/t/tags/list?last=${encodeURIComponent(sorted[sorted.length - 1] ?? '')}`);
    assert.deepEqual((afterLast.json() as { tags: string[] }).tags, []);
    const exact = await f.call('GET', `/v2/r/t/tags/list?n=${tags.length}`);
    assert.equal(exact.headers.link, undefined, 'no Link when nothing remains');
    const zero = await f.call('GET', '/v2/r/t/tags/list?n=0');
    assert.equal(zero.status, 200, zero.where);
    assert.deepEqual((zero.json() as { tags: string[] }).tags, []);
    for (const bad of ['-1', 'abc', '1.5', '']) {
      assertError(await f.call('GET', `/v2/r/t/tags/list?n=${bad}`), 400, 'PAGINATION_NUMBER_INVALID');
    }
    assertError(await f.call('GET', '/v2/r/nope/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('n above the maximum page size is capped, with a Link to the rest; no n returns everything', async (t) => {
    const f = await setup(t, { settings: { maxPageSize: 3 } });
    const body = artifact('cap');
    const tags = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    for (const tag of tags) assert.equal((await putManifest(f, 'r/cap', tag, body)).status, 201);
    const big = await f.call('GET', '/v2/r/cap/tags/list?n=100');
    assert.equal(big.status, 200, big.where);
    assert.deepEqual((big.json() as { tags: string[] }).tags, ['t1', 't2', 't3']);
    assert.match(big.headers.link ?? '', /^<\/v2\/r\/cap\/tags\/list\?n=\d+&last=t3>; rel="next"$/);
    const everything = await f.call('GET', '/v2/r/cap/tags/list');
    assert.deepEqual((everything.json() as { tags: string[] }).tags, tags);
  });

  it('catalog: byte order and paging with Link', async (t) => {
    const f = await setup(t);
    const repos = ['b/x', 'a', 'a/b', 'a-b', 'c'];
    for (const repo of repos) assert.equal((await putManifest(f, repo, 'v1', artifact(repo))).status, 201);
    const sorted = [...repos].sort((x, y) => Buffer.compare(utf8(x), utf8(y)));
    const all = await f.call('GET', '/v2/_catalog');
    assert.equal(all.status, 200, all.where);
    assert.deepEqual(all.json(), { repositories: sorted });
    const first = await f.call('GET', '/v2/_catalog?n=2');
    assert.deepEqual((first.json() as { repositories: string[] }).repositories, sorted.slice(0, 2));
    assert.equal(first.headers.link, `</v2/_catalog?n=2&last=${encodeURIComponent(sorted[1] ?? '')}>; rel="next"`);
    const second = await f.call('GET', `/v2/_catalog?n=2&last=${encodeURIComponent(sorted[1] ?? '')}`);
    assert.deepEqual((second.json() as { repositories: string[] }).repositories, sorted.slice(2, 4));
    const last = await f.call('GET', `/v2/_catalog?n=2&last=${encodeURIComponent(sorted[3] ?? '')}`);
    assert.deepEqual((last.json() as { repositories: string[] }).repositories, sorted.slice(4));
    assert.equal(last.headers.link, undefined);
    assertError(await f.call('GET', '/v2/_catalog?n=x'), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('catalog without n: a page of the maximum page size, with a Link to the rest', async (t) => {
    const f = await setup(t, { settings: { maxPageSize: 3 } });
    const repos = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5'];
    for (const repo of repos) assert.equal((await putManifest(f, repo, 'v1', artifact(repo))).status, 201);
    const page = await f.call('GET', '/v2/_catalog');
    assert.deepEqual(page.json(), { repositories: repos.slice(0, 3) });
    assert.equal(page.headers.link, `</v2/_catalog?n=3&last=${encodeURIComponent('p/3')}>; rel="next"`);
    const rest = await f.call('GET', `/v2/_catalog?last=${encodeURIComponent('p/3')}`);
    assert.deepEqual(rest.json(), { repositories: repos.slice(3) });
    assert.equal(rest.headers.link, undefined);
  });

  it('referrers: empty index when none, descriptors with artifactType/annotations, artifactType filter', async (t) => {
    const f = await setup(t);
    const subjectBody = artifact('subject');
    const subjectDigest = sha256(subjectBody);
    assert.equal((await putManifest(f, 'r/ref', 'v1', subjectBody)).status, 201);

    const none = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}`);
    assert.equal(none.status, 200, none.where);
    assert.equal(none.headers['content-type'], OCI_INDEX);
    assert.deepEqual(none.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });

    const subject = { mediaType: OCI_MANIFEST, digest: subjectDigest, size: subjectBody.byteLength };
    const sig = artifact('sig', { artifactType: 'application/vnd.example.sig', subject, annotations: { k: 'sig' } });
    const sbom = artifact('sbom', { artifactType: 'application/vnd.example.sbom', subject, annotations: { k: 'sbom' } });
    for (const b of [sig, sbom]) {
      const r = await putManifest(f, 'r/ref', sha256(b), b);
      assert.equal(r.status, 201, r.where);
      assert.equal(r.headers['oci-subject'], subjectDigest);
    }
    const both = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}`);
    const list = (both.json() as { manifests: { digest: string; mediaType: string; size: number; artifactType?: string; annotations?: Record<string, string> }[] })
      .manifests;
    assert.deepEqual(
      [...list].sort((x, y) => x.digest.localeCompare(y.digest)),
      [
        { mediaType: OCI_MANIFEST, digest: sha256(sig), size: sig.byteLength, artifactType: 'application/vnd.example.sig', annotations: { k: 'sig' } },
        { mediaType: OCI_MANIFEST, digest: sha256(sbom), size: sbom.byteLength, artifactType: 'application/vnd.example.sbom', annotations: { k: 'sbom' } },
      ].sort((x, y) => x.digest.localeCompare(y.digest)),
    );
    assert.equal(both.headers['oci-filters-applied'], undefined);

    const filtered = await f.call('GET', `/v2/r/ref/referrers/${subjectDigest}?artifactType=${encodeURIComponent('application/vnd.example.sbom')}`);
    assert.equal(filtered.status, 200, filtered.where);
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(
      (filtered.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest),
      [sha256(sbom)],
    );
    // Other repositories do not see them; malformed digests are refused.
    assert.deepEqual((await f.call('GET', `/v2/r/other/referrers/${subjectDigest}`)).json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    assertError(await f.call('GET', '/v2/r/ref/referrers/sha256:abc'), 400, 'DIGEST_INVALID');
  });

  it('referrers: long lists come in pages of maxPageSize with a Link (last = digest), also when filtered', async (t) => {
    const f = await setup(t, { settings: { maxPageSize: 2 } });
    const subjectBody = artifact('paged-subject');
    const subjectDigest = sha256(subjectBody);
    assert.equal((await putManifest(f, 'r/pg', 'v1', subjectBody)).status, 201);
    const subject = { mediaType: OCI_MANIFEST, digest: subjectDigest, size: subjectBody.byteLength };
    const digests: string[] = [];
    const sboms: string[] = [];
    for (let i = 0; i < 5; i++) {
      const type = i % 2 === 0 ? 'application/vnd.example.sbom' : 'application/vnd.example.sig';
      const b = artifact(`paged-${i}`, { artifactType: type, subject });
      assert.equal((await putManifest(f, 'r/pg', sha256(b), b)).status, 201);
      digests.push(sha256(b));
      if (i % 2 === 0) sboms.push(sha256(b));
    }
    const walk = async (first: string): Promise<{ pages: string[][] }> => {
      const pages: string[][] = [];
      let next: string | undefined = first;
      while (next) {
        const r = await f.call('GET', next);
        assert.equal(r.status, 200, r.where);
        pages.push((r.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest));
        const m = r.headers.link ? /^<([^>]+)>; rel="next"$/.exec(r.headers.link) : null;
        next = m?.[1];
        assert.ok(pages.length <= 5, 'paging ends');
      }
      return { pages };
    };
    const all = await walk(`/v2/r/pg/referrers/${subjectDigest}`);
    assert.deepEqual(all.pages.map((p) => p.length), [2, 2, 1]);
    assert.deepEqual(all.pages.flat(), [...digests].sort());
    const filtered = await walk(`/v2/r/pg/referrers/${subjectDigest}?artifactType=${encodeURIComponent('application/vnd.example.sbom')}`);
    assert.deepEqual(filtered.pages.flat(), [...sboms].sort());
    assert.ok(filtered.pages.every((p) => p.length <= 2));
    assertError(await f.call('GET', `/v2/r/pg/referrers/${subjectDigest}?last=nonsense`), 400, 'DIGEST_INVALID');
  });
});
