// Cases for manifests that are well-formed JSON but wrong: unknown or foreign blobs, media type vs
// Content-Type, indexes, the 4 MiB limit, PUT by digest, subjects, odd encodings, random mutations.
import { headerValue, sha256 } from '../lib.ts';
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from '../oci.ts';
import { MAX_MANIFEST, MF } from './config.ts';
import { E } from './contract.ts';
import { manifestObject, someDigest } from './fixtures.ts';
import type { Kit } from './kit.ts';
import { DELETE, encode, INVALID, INVALID_OR_DIGEST, manifestPuts, setPath } from './manifest-tools.ts';

export function addManifestReferenceCases(k: Kit): void {
  const { c, add } = k;
  const { putRejected, putLoose, validText } = manifestPuts(k);
  const m = c.manifest;
  add('manifest/size-mismatch', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0, 'size'], c.layer.size + rng.pick([1, -1, 1000]));
    await putRejected(h, encode(obj), INVALID);
  });
  add('manifest/unknown-layer', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0, 'digest'], someDigest(rng));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/unknown-config', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['config', 'digest'], someDigest(rng));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/layer-only-in-other-repo', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0], { mediaType: OCI_LAYER, digest: c.otherBlob.digest, size: c.otherBlob.size });
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/5000-unknown-layers', async (rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers'], Array.from({ length: 5000 }, () => ({ mediaType: OCI_LAYER, digest: someDigest(rng), size: 10 })));
    await putRejected(h, encode(obj), E(404, 'MANIFEST_BLOB_UNKNOWN'));
  });
  add('manifest/5000-known-layers', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['layers'], Array.from({ length: 5000 }, () => ({ mediaType: OCI_LAYER, digest: c.layer.digest, size: c.layer.size })));
    await putLoose(h, encode(obj), undefined, E([201, 400]));
  });
  add('manifest/mediatype-mismatch-index-ct', async (_rng, h) => putRejected(h, m.bytes, INVALID, { 'content-type': OCI_INDEX }));
  add('manifest/mediatype-mismatch-docker-ct', async (_rng, h) => putRejected(h, m.bytes, INVALID, { 'content-type': DOCKER_MANIFEST }));
  add('manifest/mediatype-mismatch-body', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], DOCKER_MANIFEST);
    await putRejected(h, encode(obj), INVALID);
  });
  add('manifest/no-content-type-no-mediatype', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], DELETE);
    await putRejected(h, encode(obj), INVALID, {});
  });
  add('manifest/no-content-type-unknown-mediatype', async (_rng, h) => {
    const obj = manifestObject(c);
    setPath(obj, ['mediaType'], 'application/x-foo');
    await putRejected(h, encode(obj), INVALID, {});
  });
  add('manifest/no-content-type-with-mediatype (control)', async (_rng, h) => {
    await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-noct`, body: m.bytes }, E(201));
  });
  add('manifest/unknown-content-types', async (rng, h) => {
    const ct = rng.pick(['application/x-foo', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.container.image.v1+json', '*/*', 'application/*']);
    await putRejected(h, m.bytes, INVALID, { 'content-type': ct });
  });
  add('manifest/index-children-missing', async (rng, h) => {
    const n = rng.range(1, 20);
    const body = encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array.from({ length: n }, () => ({ mediaType: OCI_MANIFEST, digest: someDigest(rng), size: 500, platform: { os: 'linux', architecture: 'amd64' } })) });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_INDEX });
  });
  add('manifest/index-child-is-a-blob', async (_rng, h) => {
    const body = encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: c.layer.digest, size: c.layer.size }] });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_INDEX });
  });
  add('manifest/docker-list-children-missing', async (rng, h) => {
    const body = encode({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: someDigest(rng), size: 500, platform: { os: 'linux', architecture: 'amd64' } }] });
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': DOCKER_LIST });
  });
  const indexShapes: [string, unknown][] = [
    ['manifests-object', {}],
    ['manifests-null', null],
    ['manifests-string', 's'],
    ['manifests-of-null', [null]],
    ['manifests-of-strings', ['sha256:x']],
    ['child-missing-digest', [{ mediaType: OCI_MANIFEST, size: 10 }]],
    ['child-missing-size', [{ mediaType: OCI_MANIFEST, digest: `sha256:${'0'.repeat(64)}` }]],
    ['child-bad-digest', [{ mediaType: OCI_MANIFEST, digest: 'sha256:zz', size: 10 }]],
    ['child-negative-size', [{ mediaType: OCI_MANIFEST, digest: `sha256:${'0'.repeat(64)}`, size: -5 }]],
  ];
  for (const [label, manifests] of indexShapes) {
    add(`manifest/index ${label}`, async (_rng, h) => {
      await putRejected(h, encode({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }), INVALID_OR_DIGEST, { 'content-type': OCI_INDEX });
    });
  }
  add('manifest/index-missing-manifests', async (_rng, h) => {
    await putRejected(h, encode({ schemaVersion: 2, mediaType: OCI_INDEX }), INVALID, { 'content-type': OCI_INDEX });
  });
  add('manifest/over-4MiB-by-one', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    const baseLen = encode(obj).length;
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST + 1 - baseLen);
    const body = encode(obj);
    h.check(body.length === MAX_MANIFEST + 1, 'test bug', `body is ${body.length} bytes`);
    await putRejected(h, body, E(413, 'MANIFEST_INVALID'));
  });
  add('manifest/over-4MiB-chunked', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST + 1 - encode(obj).length);
    const body = encode(obj);
    const stream = (async function* () {
      for (let i = 0; i < body.length; i += 256 * 1024) yield body.subarray(i, i + 256 * 1024);
    })();
    await putRejected(h, stream, E(413, 'MANIFEST_INVALID'));
  });
  add('manifest/20MiB-garbage', async (rng, h) => {
    const chunk = rng.bytes(1024 * 1024);
    const stream = (async function* () {
      for (let i = 0; i < 20; i++) yield chunk;
    })();
    await putRejected(h, stream, E(413, 'MANIFEST_INVALID'), { 'content-type': OCI_MANIFEST, 'content-length': String(20 * 1024 * 1024) });
  });
  add('manifest/exactly-4MiB (control)', async (_rng, h) => {
    const obj = { ...manifestObject(c), annotations: { pad: '' } };
    obj.annotations.pad = 'p'.repeat(MAX_MANIFEST - encode(obj).length);
    const body = encode(obj);
    const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-4mib`, headers: { 'content-type': OCI_MANIFEST }, body }, E(201));
    if (res?.status === 201) {
      const got = await h.req({ method: 'GET', path: `/v2/${MF}/manifests/ok-4mib` }, E(200));
      if (got) h.check(got.body.equals(body), 'manifest not stored byte-exact', `4 MiB manifest came back as ${got.body.length} bytes`);
    }
  });
  add('manifest/put-by-wrong-digest', async (rng, h) => {
    await putRejected(h, m.bytes, E(400, 'DIGEST_INVALID'), { 'content-type': OCI_MANIFEST }, rng.chance(0.5) ? someDigest(rng) : sha256(`${validText} `));
  });
  add('manifest/put-by-digest-other-repo-content', async (_rng, h) => {
    // A manifest body whose blobs live only in OTHER, PUT by its own (correct) digest in MF.
    const obj = manifestObject(c);
    setPath(obj, ['layers', 0], { mediaType: OCI_LAYER, digest: c.otherBlob.digest, size: c.otherBlob.size });
    const body = encode(obj);
    await putRejected(h, body, E(404, 'MANIFEST_BLOB_UNKNOWN'), { 'content-type': OCI_MANIFEST }, sha256(body));
  });
  add('manifest/bad-subject', async (rng, h) => {
    const subject = rng.pick(['x', { digest: 'sha256:zz', mediaType: OCI_MANIFEST, size: 1 }, { mediaType: OCI_MANIFEST }, [], { digest: someDigest(rng), mediaType: OCI_MANIFEST, size: 'big' }]);
    await putRejected(h, encode({ ...manifestObject(c), subject }), E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']));
  });
  add('manifest/unknown-subject (control)', async (rng, h) => {
    const subject = someDigest(rng);
    const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/ok-subject`, headers: { 'content-type': OCI_MANIFEST }, body: encode({ ...manifestObject(c), subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 } }) }, E(201));
    if (res?.status === 201) h.check(headerValue(res, 'oci-subject') === subject, 'manifest with subject: OCI-Subject header missing or wrong', `OCI-Subject ${headerValue(res, 'oci-subject')} != ${subject}`);
  });
  add('manifest/bom', async (_rng, h) => putLoose(h, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), m.bytes]), undefined, E([201, 400])));
  add('manifest/leading-whitespace', async (_rng, h) => putLoose(h, `  \n${validText}`, undefined, E([201, 400])));
  add('manifest/duplicate-keys', async (rng, h) => {
    const dup = rng.pick([
      validText.replace('"schemaVersion":2', '"schemaVersion":1,"schemaVersion":2'),
      validText.replace('"schemaVersion":2', '"schemaVersion":2,"schemaVersion":1'),
      validText.replace(`"mediaType":"${OCI_MANIFEST}"`, `"mediaType":"${OCI_MANIFEST}","mediaType":"${OCI_INDEX}"`),
      validText.replace(`"digest":"${c.layer.digest}"`, `"digest":"${c.layer.digest}","digest":"sha256:${'0'.repeat(64)}"`),
    ]);
    await putLoose(h, dup, undefined, E([201, 400, 404]));
  });
  add('manifest/escaped-nul-annotation', async (_rng, h) => putLoose(h, encode({ ...manifestObject(c), annotations: { a: '\u0000\u0001' } }), undefined, E([201, 400])));
  add('manifest/invalid-utf8-in-string', async (_rng, h) => {
    const body = Buffer.concat([Buffer.from(validText.slice(0, -1)), Buffer.from(',"annotations":{"a":"'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('"}}')]);
    await putLoose(h, body, undefined, E([201, 400]));
  });
  add('manifest/random-byte-mutation', async (rng, h) => {
    const bytes = Buffer.from(m.bytes);
    const n = rng.range(1, 5);
    let out = bytes;
    for (let i = 0; i < n; i++) {
      const pos = rng.int(out.length);
      const op = rng.int(3);
      if (op === 0) out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1)]);
      else if (op === 1) out = Buffer.concat([out.subarray(0, pos), rng.bytes(1), out.subarray(pos)]);
      else {
        out = Buffer.from(out);
        out[pos] = rng.int(256);
      }
    }
    await putLoose(h, out);
  });
}
