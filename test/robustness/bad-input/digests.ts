// Cases for malformed digests in paths and in the `digest` / `mount` query parameters, and a monolithic
// upload whose content does not match its digest.
import { prng, type RequestSpec, type Rng, sha256, withQuery } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { MF, REPO } from './config.ts';
import { ANY, E, X4 } from './contract.ts';
import { hex64, rawUtf8, someDigest } from './fixtures.ts';
import type { Kit } from './kit.ts';

export function addDigestCases(k: Kit): void {
  const { c, add, startSession, expectBlobAbsent } = k;
  const m = c.manifest;
  // --- Digests ---------------------------------------------------------------------------------
  const badDigests = (rng: Rng): [string, string, boolean][] => {
    const hx = hex64(rng);
    // [label, digest, literal: true = strict DIGEST_INVALID in paths; false = may percent-decode to something]
    return [
      ['md5', 'md5:d41d8cd98f00b204e9800998ecf8427e', true],
      ['sha384-unsupported', `sha384:${hx}${hx.slice(0, 32)}`, true],
      ['short', 'sha256:abc', true],
      ['long', `sha256:${hx}a`, true],
      ['uppercase-hex', `sha256:${hx.toUpperCase()}`, true],
      ['uppercase-alg', `SHA256:${hx}`, true],
      ['missing-colon', `sha256${hx}`, true],
      ['alone', 'sha256:', true],
      ['empty-alg', `:${hx}`, true],
      ['colon-only', ':', true],
      ['double-colon', `sha256::${hx}`, true],
      ['non-hex', `sha256:${'g'.repeat(64)}`, true],
      ['sha512-wrong-length', `sha512:${hx}`, true],
      ['huge', `sha256:${hx.repeat(120)}`, true],
      ['b64-alg', 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', true],
      ['dots', 'sha256:..', true],
      ['pct-trailing-space', `sha256:${hx}%20`, false],
      ['pct-colon', `sha256%3A${hx}`, false],
      ['pct-nul', `sha256:${hx}%00`, false],
      ['utf8-raw', rawUtf8(`sha256:${hx.slice(0, 63)}é`), true],
    ];
  };
  const digestLabels = badDigests(prng(1)).map(([l]) => l);
  for (const label of digestLabels) {
    add(`digest/${label}`, async (rng, h) => {
      const found = badDigests(rng).find(([l]) => l === label);
      if (!found) throw new Error(`no digest variant ${label}`);
      const [, d, literal] = found;
      const q = encodeURIComponent(Buffer.from(d, 'latin1').toString('utf8'));
      const strict = E(400, 'DIGEST_INVALID');
      // `sha256%3A<hex>` percent-decodes to a well-formed (unknown) digest.
      const inPath = label === 'pct-colon' ? ANY : X4;
      const routes: (() => Promise<unknown>)[] = [
        () => h.req({ method: rng.pick(['GET', 'HEAD', 'DELETE']), path: `/v2/${REPO}/blobs/${d}` }, literal ? strict : inPath),
        () => h.req({ method: 'GET', path: `/v2/${REPO}/referrers/${d}` }, literal ? strict : inPath),
        () => h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${q}`, body: c.otherBlob.bytes }, strict),
        // A mount is a hint: one that cannot be done falls back to a plain upload session.
        () => h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?mount=${q}&from=${REPO}` }, E(202)),
        async () => {
          const loc = await startSession(h);
          if (loc) {
            await h.req({ method: 'PUT', path: withQuery(loc, `digest=${q}`), body: 'abc' }, strict);
          }
        },
      ];
      // Manifest references containing ':' are digests.
      if (d.includes(':')) {
        routes.push(() => {
          const method = rng.pick(['GET', 'HEAD', 'DELETE', 'PUT'] as const);
          const spec: RequestSpec = { method, path: `/v2/${MF}/manifests/${d}` };
          if (method === 'PUT') Object.assign(spec, { headers: { 'content-type': OCI_MANIFEST }, body: m.bytes });
          // A GET or HEAD of a manifest that cannot exist is simply not found (the spec's MUST 404).
          const read = method === 'GET' || method === 'HEAD';
          return h.req(spec, literal ? (read ? E(404, 'MANIFEST_UNKNOWN') : strict) : inPath);
        });
      }
      await rng.pick(routes)();
    });
  }
  add('digest/unknown-valid (control)', async (rng, h) => {
    await h.req({ method: 'GET', path: `/v2/${REPO}/blobs/${someDigest(rng)}` }, E(404, 'BLOB_UNKNOWN'));
  });
  add('digest/monolithic-mismatch', async (rng, h) => {
    const claimed = someDigest(rng);
    const body = rng.bytes(rng.range(1, 3000));
    await h.req({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${claimed}`, body }, E(400, 'DIGEST_INVALID'));
    await expectBlobAbsent(h, REPO, claimed, 'monolithic POST with wrong digest');
    await expectBlobAbsent(h, REPO, sha256(body), 'monolithic POST with wrong digest (actual content)');
  });
}
