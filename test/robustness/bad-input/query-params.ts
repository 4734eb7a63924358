// Cases for list query parameters (`n`, `last`, repeated and malformed ones) and for `mount` / `from`
// combinations on upload POST.
import { headerValue, printable, type HttpResult, type Rng } from '../lib.ts';
import { OTHER, REPO } from './config.ts';
import { ANY, E, type Expect } from './contract.ts';
import { rawUtf8, someDigest } from './fixtures.ts';
import type { Kit } from './kit.ts';

/** The list in a tags or catalog page (`tags` or `repositories`, by the request path). */
const listIn = (path: string, res: HttpResult): unknown => {
  const body = JSON.parse(res.body.toString()) as { tags?: unknown; repositories?: unknown };
  return path.includes('tags') ? body.tags : body.repositories;
};

export function addQueryCases(k: Kit): void {
  const { c, add } = k;
  // --- Query parameters ------------------------------------------------------------------------
  const badN: [string, Expect][] = [
    ['-1', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['abc', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1.5', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['NaN', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['Infinity', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['-Infinity', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1%2C2', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['%00', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['%F0%9F%98%80', E(400, 'PAGINATION_NUMBER_INVALID')],
    ['1000000000', E(200)],
    ['99999999999999999999', E(200)],
    ['1e9', ANY],
    ['0x10', ANY],
    ['%2B1', ANY],
    ['%201', ANY],
    ['-0', ANY],
    ['', ANY],
  ];
  for (const [n, expect] of badN) {
    add(`query/n=${n}`, async (rng, h) => {
      const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?n=${n}` : `/v2/_catalog?n=${n}`;
      const res = await h.req({ method: 'GET', path }, expect);
      if (res?.status === 200) {
        const list = listIn(path, res);
        h.check(Array.isArray(list) && list.length <= 1000, 'list page is not an array of at most 1000', `${path} -> ${printable(res.body.toString().slice(0, 200))}`);
      }
    });
  }
  add('query/n=0 (control)', async (rng, h) => {
    const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?n=0` : '/v2/_catalog?n=0';
    const res = await h.req({ method: 'GET', path }, E(200));
    if (res?.status === 200) {
      const list = listIn(path, res);
      h.check(Array.isArray(list) && list.length === 0, 'n=0 did not return an empty list', `${path} -> ${printable(res.body.toString().slice(0, 200))}`);
    }
  });
  const weirdQueries = [
    'last=%00',
    'last=%ff',
    'last=%C3%28',
    `last=${rawUtf8('ä')}`,
    `last=${'z'.repeat(5000)}`,
    'last=..%2F..%2F',
    'last=%',
    'last=%zz',
    'last=',
    'last=a%0d%0aX-Injected:%201',
    'n=1&n=2',
    'n=-1&n=2',
    'n=2&n=-1',
    'last=a&last=b',
    'n=1&n=abc',
    'n=1&last=\xff\xfe',
    'n=1&',
    '&&&',
    'n',
    '=1',
    '%zz=1',
    'n=1;last=a',
    `${'x=1&'.repeat(500)}n=1`,
  ];
  for (const q of weirdQueries) {
    add(`query/${printable(q).slice(0, 40)}`, async (rng, h) => {
      const path = rng.chance(0.5) ? `/v2/${REPO}/tags/list?${q}` : `/v2/_catalog?${q}`;
      const res = await h.req({ method: 'GET', path }, E([200, 400]));
      if (res?.status === 200) {
        const link = headerValue(res, 'link');
        if (link) h.check(/^<\/v2\/[^>]*>; rel="next"$/.test(link), 'malformed Link header', `${path} -> Link: ${printable(link)}`);
      }
    });
  }
  // mount / from combinations
  const mounts: [string, (rng: Rng) => string, Expect][] = [
    ['mount-existing-from-holder (control)', () => `mount=${c.layer.digest}&from=${REPO}`, E(201)],
    ['mount-existing-without-from', () => `mount=${c.layer.digest}`, E(202)],
    ['mount-unknown-digest', (rng) => `mount=${someDigest(rng)}&from=${REPO}`, E(202)],
    ['mount-from-unknown-repo', () => `mount=${c.layer.digest}&from=robust/nonexistent`, E(202)],
    ['mount-from-repo-without-blob', () => `mount=${c.otherBlob.digest}&from=${REPO}`, E(202)],
    ['mount-empty', () => `mount=&from=${REPO}`, E(202)],
    ['from-empty', () => `mount=${c.layer.digest}&from=`, E(202)],
    ['from-only', () => `from=${REPO}`, E(202)],
    ['mount-invalid-from-invalid', () => 'mount=md5:x&from=BAD', E(202)],
    ['mount-twice', () => `mount=${c.layer.digest}&mount=bad&from=${REPO}`, ANY],
    ['from-twice', () => `mount=${c.layer.digest}&from=${REPO}&from=BAD`, ANY],
    ['mount-and-digest', (rng) => `mount=${c.layer.digest}&from=${REPO}&digest=${someDigest(rng)}`, ANY],
    ['mount-from-self', () => `mount=${c.layer.digest}&from=${REPO}`, E(201)],
  ];
  for (const [label, q, expect] of mounts) {
    add(`mount/${label}`, async (rng, h) => {
      const target = label.includes('self') ? REPO : OTHER;
      await h.req({ method: 'POST', path: `/v2/${target}/blobs/uploads/?${q(rng)}` }, expect);
    });
  }
}
