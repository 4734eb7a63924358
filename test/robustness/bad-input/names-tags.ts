// Cases for repository names and tags: names that break the grammar (length, case, separators,
// percent-encoding, raw UTF-8) on every route and as a mount's `from`, and invalid tags.
import { type RequestSpec, type Rng, sha256 } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { MF, REPO } from './config.ts';
import { ANY, E, type Expect, X4 } from './contract.ts';
import { hex64, rawUtf8, someDigest, uuidOf } from './fixtures.ts';
import type { Kit } from './kit.ts';

type NameKind = 'strict' | 'notfound-ok' | 'loose' | 'decodable' | 'valid';

export function addNameAndTagCases(k: Kit): void {
  const { c, add } = k;
  const m = c.manifest;
  // --- Repository names ------------------------------------------------------------------------
  const badNames: [string, string, NameKind][] = [
    ['uppercase', 'Robust/Base', 'strict'],
    ['uppercase-single', 'aBc', 'strict'],
    ['len256', 'a'.repeat(256), 'strict'],
    ['len256-segments', `${'abcdefg/'.repeat(31)}abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk`.slice(0, 256), 'strict'],
    ['len5000', 'a'.repeat(5000), 'strict'],
    ['empty-segment', 'robust//base', 'notfound-ok'],
    ['leading-separator', '/robust', 'notfound-ok'],
    ['trailing-separator', 'robust/', 'notfound-ok'],
    ['only-separator', '/', 'notfound-ok'],
    ['many-separators', `a${'/'.repeat(100)}b`, 'notfound-ok'],
    ['dotdot', '..', 'notfound-ok'],
    ['dotdot-inner', 'robust/../base', 'notfound-ok'],
    ['dot-inner', 'robust/./base', 'notfound-ok'],
    ['double-dot', 'a..b', 'strict'],
    ['leading-dash', '-abc', 'strict'],
    ['trailing-dash', 'abc-', 'strict'],
    ['leading-dot', '.abc', 'strict'],
    ['triple-underscore', 'a___b', 'strict'],
    ['leading-underscore', '_a', 'strict'],
    ['plus', 'a+b', 'strict'],
    ['colon', 'a:b', 'strict'],
    ['at', 'a@b', 'strict'],
    ['semicolon', 'a;b', 'strict'],
    ['comma', 'a,b', 'strict'],
    ['tilde', 'a~b', 'strict'],
    ['del-char', 'a\x7fb', 'strict'],
    ['backslash', 'a\\b', 'loose'],
    ['pct-slash', 'robust%2Fbase', 'decodable'],
    ['pct-letter', '%72obust', 'decodable'],
    ['pct-nul', 'a%00b', 'loose'],
    ['pct-invalid', 'a%zzb', 'loose'],
    ['pct-lone', 'a%', 'loose'],
    ['pct-dotdot', '%2e%2e/%2e%2e', 'loose'],
    ['pct-crlf-injection', 'a%0d%0aX-Injected:%201', 'loose'],
    ['pct-space', 'a%20b', 'loose'],
    ['pct-control', '%01%02%7f', 'loose'],
    ['utf8-raw', rawUtf8('résumé'), 'loose'],
    ['utf8-raw-cjk', rawUtf8('名前/x'), 'loose'],
    ['utf8-pct-emoji', encodeURIComponent('😀'), 'loose'],
    ['invalid-utf8-raw', '\xff\xfe\xc3\x28', 'loose'],
    ['overlong-utf8-slash-raw', '\xc0\xafa', 'loose'],
    ['question-mark', 'a?b', 'loose'],
    ['hash', 'a#b', 'loose'],
    ['len255-valid', 'a'.repeat(255), 'valid'],
    ['many-components-valid', Array.from({ length: 120 }, () => 'a').join('/'), 'valid'],
    ['separators-valid', 'a.b_c__d---e/f', 'valid'],
  ];
  type Route = { label: string; spec: (n: string, rng: Rng) => RequestSpec };
  const nameRoutes: Route[] = [
    { label: 'manifest-get', spec: (n) => ({ method: 'GET', path: `/v2/${n}/manifests/latest` }) },
    { label: 'manifest-head', spec: (n) => ({ method: 'HEAD', path: `/v2/${n}/manifests/latest` }) },
    { label: 'manifest-put', spec: (n) => ({ method: 'PUT', path: `/v2/${n}/manifests/latest`, headers: { 'content-type': OCI_MANIFEST }, body: m.bytes }) },
    { label: 'manifest-delete', spec: (n, rng) => ({ method: 'DELETE', path: `/v2/${n}/manifests/${someDigest(rng)}` }) },
    { label: 'blob-get', spec: (n) => ({ method: 'GET', path: `/v2/${n}/blobs/${c.layer.digest}` }) },
    { label: 'blob-head', spec: (n) => ({ method: 'HEAD', path: `/v2/${n}/blobs/${c.layer.digest}` }) },
    { label: 'blob-delete', spec: (n, rng) => ({ method: 'DELETE', path: `/v2/${n}/blobs/${someDigest(rng)}` }) },
    { label: 'upload-post', spec: (n) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/` }) },
    {
      label: 'upload-post-monolithic',
      spec: (n, rng) => {
        // Fresh random content: a name that percent-decodes to a real repository must not link a fixture blob there.
        const bytes = rng.bytes(rng.range(1, 2000));
        return { method: 'POST', path: `/v2/${n}/blobs/uploads/?digest=${sha256(bytes)}`, body: bytes };
      },
    },
    { label: 'upload-mount', spec: (n) => ({ method: 'POST', path: `/v2/${n}/blobs/uploads/?mount=${c.layer.digest}&from=${REPO}` }) },
    { label: 'upload-patch', spec: (n, rng) => ({ method: 'PATCH', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}?_state=${hex64(rng)}`, body: 'abc' }) },
    { label: 'upload-put', spec: (n, rng) => ({ method: 'PUT', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}?digest=${sha256('')}` }) },
    { label: 'upload-get', spec: (n, rng) => ({ method: 'GET', path: `/v2/${n}/blobs/uploads/${uuidOf(rng)}` }) },
    { label: 'tags-list', spec: (n) => ({ method: 'GET', path: `/v2/${n}/tags/list` }) },
    { label: 'referrers', spec: (n) => ({ method: 'GET', path: `/v2/${n}/referrers/${m.digest}` }) },
  ];
  for (const [label, name, kind] of badNames) {
    if (kind === 'valid') {
      add(`name/${label}/manifest-get (control)`, async (_rng, h) => {
        await h.req({ method: 'GET', path: `/v2/${name}/manifests/latest` }, E(404, ['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']));
      });
      continue;
    }
    // 'decodable' names percent-decode to valid ones; whether the server decodes paths is its choice.
    const expect: Expect = kind === 'strict' ? E(400, 'NAME_INVALID') : kind === 'notfound-ok' ? E([400, 404], ['NAME_INVALID', 'UNSUPPORTED']) : kind === 'decodable' ? ANY : X4;
    add(`name/${label}`, async (rng, h) => {
      const route = rng.pick(nameRoutes);
      await h.req(route.spec(name, rng), expect);
    });
    // The same bad name as the `from` of a cross-repository mount (a query value, so no routing ambiguity).
    add(`name/${label}/mount-from`, async (_rng, h) => {
      const from = encodeURIComponent(Buffer.from(name, 'latin1').toString('utf8'));
      // A mount is a hint: a `from` that is no repository name falls back to a plain upload session.
      await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?mount=${c.layer.digest}&from=${from}` }, kind === 'loose' || kind === 'decodable' ? ANY : E(202));
    });
  }

  // --- Tags ------------------------------------------------------------------------------------
  const badTags: [string, string, Expect][] = [
    ['len129', 'a'.repeat(129), E(400, 'TAG_INVALID')],
    ['len1000', 'b'.repeat(1000), E(400, 'TAG_INVALID')],
    ['leading-dot', '.abc', E(400, 'TAG_INVALID')],
    ['leading-dash', '-abc', E(400, 'TAG_INVALID')],
    ['plus', 'a+b', E(400, 'TAG_INVALID')],
    ['at', 'a@b', E(400, 'TAG_INVALID')],
    ['star', '*', E(400, 'TAG_INVALID')],
    ['tilde', 'a~b', E(400, 'TAG_INVALID')],
    ['pct-space', 'a%20b', E(400, 'TAG_INVALID')],
    ['pct-nul', 'a%00', E(400, 'TAG_INVALID')],
    ['utf8-raw', rawUtf8('tåg'), E(400, 'TAG_INVALID')],
    ['only-dot', '.', X4],
    ['dotdot', '..', X4],
    ['empty', '', X4],
  ];
  const tagMethods = ['GET', 'HEAD', 'DELETE', 'PUT'] as const;
  for (const [label, tag, expect] of badTags) {
    add(`tag/${label}`, async (rng, h) => {
      const method = rng.pick(tagMethods);
      const spec: RequestSpec = { method, path: `/v2/${MF}/manifests/${tag}` };
      if (method === 'PUT') Object.assign(spec, { headers: { 'content-type': OCI_MANIFEST }, body: m.bytes });
      // A GET or HEAD of a manifest that cannot exist is simply not found (the spec's MUST 404).
      const readExpect = expect.status === 400 && (method === 'GET' || method === 'HEAD') ? E(404, 'MANIFEST_UNKNOWN') : expect;
      await h.req(spec, readExpect);
    });
  }
  for (const [label, tag] of [
    ['len128-valid', 'a'.repeat(128)],
    ['underscore-valid', '_a'],
    ['mixed-valid', 'V1.0_rc-1'],
  ] as const) {
    add(`tag/${label} (control)`, async (rng, h) => {
      await h.req({ method: rng.pick(['GET', 'HEAD', 'DELETE']), path: `/v2/${MF}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
    });
  }
}
