// Cases for request headers: Content-Range on PATCH, Range on the signed blob URL, tampered signed URLs,
// huge and garbage headers, Accept on manifest GET, Content-Type on manifest PUT, Expect, Host, etc.
import { headerValue, printable } from '../lib.ts';
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../oci.ts';
import { MF, REPO } from './config.ts';
import { ANY, E, type Expect, X4 } from './contract.ts';
import { acceptedBadTags } from './fixtures.ts';
import type { Kit } from './kit.ts';

export function addHeaderCases(k: Kit): void {
  const { c, add, startSession, expectRange, expectTagAbsent, badTag, looseTag } = k;
  const m = c.manifest;
  // --- Headers ---------------------------------------------------------------------------------
  const contentRanges: [string, 'ok' | 'reject' | 'either', number?][] = [
    ['abc', 'reject'],
    ['5-2', 'reject'],
    ['0-999999999999999999999', 'reject'],
    ['bytes=0-1', 'reject'],
    ['0-', 'reject'],
    ['-4', 'reject'],
    ['0-4-5', 'reject'],
    ['0--4', 'reject'],
    ['0x0-0x4', 'reject'],
    ['0-3', 'reject'],
    ['0-5', 'reject'],
    ['-0-4', 'reject'],
    ['1-5', 'reject', 416],
    ['4294967296-4294967300', 'reject', 416],
    [`0-${'9'.repeat(8000)}`, 'reject'],
    ['0-4, 5-9', 'reject'],
    ['\xff\xfe', 'reject'],
    ['0-4', 'ok'],
    ['0-4/5', 'either'],
    ['0-4/*', 'either'],
    ['bytes 0-4/5', 'either'],
    ['bytes=0-4', 'either'],
    ['00-04', 'either'],
  ];
  for (const [cr, kind, status] of contentRanges) {
    add(`header/content-range ${printable(cr).slice(0, 30)}`, async (_rng, h) => {
      const loc = await startSession(h);
      if (!loc) return;
      const expect = kind === 'ok' ? E(202) : kind === 'reject' ? (status ? E(status, 'BLOB_UPLOAD_INVALID') : X4) : E([202, 400, 416]);
      const res = await h.req({ method: 'PATCH', path: loc, headers: { 'content-range': cr, 'content-type': 'application/octet-stream' }, body: 'hello' }, expect);
      if (!res) return;
      if (res.status === 416) h.check(headerValue(res, 'range') === '0-0', '416 without the current Range', `PATCH Content-Range ${printable(cr).slice(0, 40)} -> 416 Range ${headerValue(res, 'range')}`);
      await expectRange(h, loc, res.status === 202 ? '0-4' : '0-0', `after PATCH with Content-Range ${printable(cr).slice(0, 40)} -> ${res.status}`);
    });
  }
  const ranges: string[] = [
    'bytes=abc',
    'bytes=5-2',
    'bytes=999999999-',
    'bytes=-',
    'items=0-1',
    'bytes=0-1,3-4',
    'bytes=0-99999999999999999999',
    'bytes=-0',
    'bytes=-99999999',
    'bytes= 0-1',
    'bytes=0-0',
    'bytes=1-',
    'bytes=4095-4095',
    'bytes=4096-',
    'bytes=-1',
    `bytes=${'1'.repeat(8000)}-`,
    'bytes=\xff-\xfe',
    '',
    'bytes=0-1\tbytes=2-3',
  ];
  for (const r of ranges) {
    add(`header/range ${printable(r).slice(0, 30)}`, async (rng, h) => {
      const method = rng.chance(0.8) ? 'GET' : 'HEAD';
      const res = await h.req({ method, path: c.signedPath, headers: { range: r } }, E([200, 206, 416]));
      if (!res || method === 'HEAD') return;
      const full = c.layer.bytes;
      if (res.status === 200) h.check(res.body.equals(full), 'signed URL returned wrong bytes', `Range ${printable(r)} -> 200 with ${res.body.length} bytes`);
      if (res.status === 206) {
        const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headerValue(res, 'content-range') ?? '');
        const ok = cr !== null && res.body.equals(full.subarray(Number(cr[1]), Number(cr[2]) + 1));
        h.check(ok, 'signed URL 206 with wrong Content-Range or bytes', `Range ${printable(r)} -> 206 Content-Range ${headerValue(res, 'content-range')} body ${res.body.length} bytes`);
      }
    });
  }
  add('header/signed-url-tampered', async (rng, h) => {
    const p = c.signedPath;
    // Flip one character of the last 20 (the signature lives at the end of the URL).
    const i = p.length - 1 - rng.int(Math.min(20, p.length - 10));
    const ch = p[i] === 'A' ? 'B' : 'A';
    await h.req({ method: 'GET', path: p.slice(0, i) + ch + p.slice(i + 1) }, E(403, 'DENIED'));
  });
  add('header/signed-url-truncated', async (rng, h) => {
    await h.req({ method: 'GET', path: c.signedPath.slice(0, c.signedPath.length - rng.range(1, 10)) }, X4);
  });
  add('header/signed-url-garbage', async (rng, h) => {
    await h.req({ method: 'GET', path: `/_blobs/${rng.bytes(20).toString('base64url')}?${rng.bytes(10).toString('hex')}` }, X4);
  });
  add('header/huge-junk-header', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { 'x-junk': 'j'.repeat(12_000) } }, E(200));
  });
  add('header/huge-user-agent', async (_rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/good`, headers: { 'user-agent': 'u'.repeat(12_000) } }, E(200));
  });
  add('header/huge-authorization', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { authorization: `Bearer ${'t'.repeat(10_000)}` } }, E([200, 401]));
  });
  add('header/garbage-authorization', async (rng, h) => {
    const v = rng.pick(['Basic', 'Basic !!!', 'Basic ' + Buffer.from('\xff:\xff', 'latin1').toString('base64'), 'Bearer', 'Digest x', '\xff\xfe', 'Basic ' + 'A'.repeat(9000)]);
    await h.req({ method: 'GET', path: `/v2/${REPO}/tags/list`, headers: { authorization: v } }, E([200, 400, 401]));
  });
  add('header/many-headers', async (rng, h) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 150; i++) headers[`x-h-${i}`] = rng.bytes(20).toString('hex');
    await h.req({ method: 'GET', path: '/v2/', headers }, E(200));
  });
  add('header/huge-cookie', async (_rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${c.layer.digest}`, headers: { cookie: `a=${'c'.repeat(12_000)}` } }, E(307));
  });
  const accepts: [string | string[], Expect][] = [
    [';;;,,,', E([200, 404])],
    ['application/json;q=abc', E([200, 404])],
    ['*/*;q=0', E([200, 404])],
    [',', E([200, 404])],
    ['a'.repeat(10_000), E([200, 404])],
    ['\xff\xfe', E([200, 404])],
    ['APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON', E([200, 404])],
    [`${'text/plain, '.repeat(500)}*/*`, E(200)],
    ['text/html', E(404, 'MANIFEST_UNKNOWN')],
    ['application/json', E(404, 'MANIFEST_UNKNOWN')],
    [DOCKER_MANIFEST, E(404, 'MANIFEST_UNKNOWN')],
    ['application/*', E(200)],
    [OCI_MANIFEST, E(200)],
    [`${OCI_MANIFEST};q=0.5`, E(200)],
    [['text/html', OCI_MANIFEST], E(200)],
    [`${DOCKER_MANIFEST}, ${OCI_INDEX}, */*`, E(200)],
  ];
  for (const [accept, expect] of accepts) {
    add(`header/accept ${printable(String(accept)).slice(0, 90)}`, async (rng, h) => {
      const byDigest = rng.chance(0.5);
      const res = await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/${byDigest ? m.digest : 'good'}`, headers: { accept } }, expect);
      if (res?.status === 200) h.check(res.body.equals(m.bytes), 'manifest GET returned different bytes', `Accept ${printable(String(accept)).slice(0, 60)}`);
    });
  }
  const contentTypes: [string, 'reject' | 'either'][] = [
    [';;;', 'reject'],
    ['text/plain', 'reject'],
    // A generic application/json defers to the body's mediaType, as in CNCF distribution.
    ['application/json', 'either'],
    ['application/octet-stream', 'reject'],
    [OCI_INDEX, 'reject'],
    [DOCKER_LIST, 'reject'],
    [DOCKER_MANIFEST, 'reject'],
    ['application/vnd.docker.distribution.manifest.v1+json', 'reject'],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', 'reject'],
    ['application/vnd.oci.artifact.manifest.v1+json', 'reject'],
    [OCI_CONFIG, 'reject'],
    ['c'.repeat(10_000), 'reject'],
    ['\xff\xfe', 'reject'],
    [`${OCI_MANIFEST}; charset=utf-8`, 'either'],
    [OCI_MANIFEST.toUpperCase(), 'either'],
    [` ${OCI_MANIFEST} `, 'either'],
    [`${OCI_MANIFEST}, ${OCI_INDEX}`, 'either'],
  ];
  for (const [ct, kind] of contentTypes) {
    add(`header/content-type ${printable(ct).slice(0, 90)}`, async (_rng, h) => {
      const tag = kind === 'reject' ? badTag() : looseTag();
      const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers: { 'content-type': ct }, body: m.bytes }, kind === 'reject' ? E(400, 'MANIFEST_INVALID') : E([201, 400]));
      if (res && res.status < 300) acceptedBadTags.add(tag);
      if (res && res.status >= 400) await expectTagAbsent(h, MF, tag, `PUT with Content-Type ${printable(ct).slice(0, 40)}`);
    });
  }
  add('header/expect-garbage', async (_rng, h) => {
    await h.req({ method: 'GET', path: '/v2/', headers: { expect: 'garbage' } }, ANY);
  });
  add('header/expect-100-continue', async (_rng, h) => {
    const tag = looseTag();
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers: { 'content-type': OCI_MANIFEST, expect: '100-continue' }, body: m.bytes }, E(201));
  });
  add('header/host-garbage', async (rng, h) => {
    const host = rng.pick(['', 'evil.example:1', 'a'.repeat(1000), '[::1', '\xff', 'a b']);
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${c.layer.digest}`, headers: { host } }, E([307, 400]));
  });
  add('header/forwarded-garbage', async (rng, h) => {
    const headers = rng.pick<Record<string, string>>([{ 'x-forwarded-proto': 'javascript' }, { 'x-forwarded-host': '\xff' }, { forwarded: 'for=;;;' }, { 'x-forwarded-for': 'x'.repeat(5000) }, { 'x-forwarded-proto': 'https, http' }]);
    await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/`, headers }, E(202));
  });
  add('header/content-encoding-gzip-lie', async (_rng, h) => {
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${looseTag()}`, headers: { 'content-type': OCI_MANIFEST, 'content-encoding': 'gzip' }, body: m.bytes }, E([201, 400, 415]));
  });
  add('header/body-on-get', async (rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/manifests/good`, body: rng.bytes(1000) }, E(200));
  });
}
