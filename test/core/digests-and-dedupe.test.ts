// Digests and content-addressed storage through the core on real adapters: mismatching digests
// (sha256 and sha512) store nothing and end the session, sha512 blobs and manifests, one file per
// digest however often and wherever it is uploaded, the empty descriptor stored by the registry
// itself, and manifest references to missing or wrongly sized blobs.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import {
  EMPTY_DESCRIPTOR,
  EMPTY_DIGEST,
  OCI_CONFIG,
  OCI_LAYER,
  OCI_MANIFEST,
  artifact,
  assertError,
  errorCodeOf,
  filesUnder,
  pushBlob,
  putManifest,
  setup,
  sha256,
  sha512,
  startSession,
  utf8,
  withDigest,
} from './real-adapters.ts';

describe('digest verification', () => {
  it('PUT with a mismatching digest: 400 DIGEST_INVALID, the session and its bytes are gone', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(300);
    const loc = await startSession(f, 'r/x');
    assert.equal((await f.call('PATCH', loc, { body: bytes })).status, 202);
    const wrong = sha256(utf8('something else'));
    const put = await f.call('PUT', withDigest(loc, wrong));
    assertError(put, 400, 'DIGEST_INVALID');
    assertError(await f.call('GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PATCH', loc, { body: utf8('x') }), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PUT', withDigest(loc, sha256(bytes))), 404, 'BLOB_UPLOAD_UNKNOWN');
    assert.deepEqual(await filesUnder(f, 'uploads'), [], 'upload bytes discarded');
    assert.deepEqual(await filesUnder(f, 'blobs'), [], 'nothing stored');
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${wrong}`)).status, 404);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404);
  });

  it('a sha512 digest of other bytes is a mismatch too', async (t) => {
    const f = await setup(t);
    const loc = await startSession(f, 'r/x');
    const put = await f.call('PUT', withDigest(loc, sha512('other')), { body: utf8('mine') });
    assertError(put, 400, 'DIGEST_INVALID');
    assertError(await f.call('GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('monolithic POST with the wrong digest stores nothing', async (t) => {
    const f = await setup(t);
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256('not this')}`, { body: utf8('this') });
    assertError(r, 400, 'DIGEST_INVALID');
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
  });

  it('sha512 blobs: monolithic and chunked, HEAD and GET', async (t) => {
    const f = await setup(t);
    const one = randomBytes(777);
    const d1 = sha512(one);
    const post = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${d1}`, { body: one });
    assert.equal(post.status, 201, post.where);
    assert.equal(post.headers.location, `/v2/r/x/blobs/${d1}`);
    assert.equal(post.headers['docker-content-digest'], d1);
    const head = await f.call('HEAD', `/v2/r/x/blobs/${d1}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '777');
    assert.equal(head.headers['docker-content-digest'], d1);
    const get = await f.call('GET', `/v2/r/x/blobs/${d1}`);
    assert.equal(get.status, 307, get.where);
    assert.ok(get.headers.location?.startsWith('/_blobs/'), get.headers.location);
    assert.deepEqual(await readFile(f.blobs.blobPath(d1)), one);

    const two = [randomBytes(3000), randomBytes(10)];
    const d2 = sha512(Buffer.concat(two));
    const loc = await startSession(f, 'r/x');
    const patch = await f.call('PATCH', loc, { body: two[0] ?? new Uint8Array() });
    assert.equal(patch.status, 202, patch.where);
    const put = await f.call('PUT', withDigest(patch.headers.location ?? loc, d2), { body: two[1] ?? new Uint8Array() });
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers['docker-content-digest'], d2);
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${d2}`)).headers['content-length'], '3010');
  });

  it('manifests pushed by a sha512 digest are stored under that digest', async (t) => {
    const f = await setup(t);
    const body = artifact('sha512-manifest');
    const digest = sha512(body);
    const put = await putManifest(f, 'r/x', digest, body);
    assert.equal(put.status, 201, put.where);
    assert.equal(put.headers['docker-content-digest'], digest);
    assert.equal(put.headers.location, `/v2/r/x/manifests/${digest}`);
    const get = await f.call('GET', `/v2/r/x/manifests/${digest}`);
    assert.equal(get.status, 200, get.where);
    assert.deepEqual(get.body, body);
    assert.equal(get.headers['docker-content-digest'], digest);
    // The sha512 digest of different bytes is refused.
    assertError(await putManifest(f, 'r/x', sha512('other'), body), 400, 'DIGEST_INVALID');
  });
});

describe('content-addressed storage', () => {
  it('two uploads of the same bytes (two repos, both upload styles) leave one file under blobs/', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(64 * 1024);
    const digest = sha256(bytes);
    await pushBlob(f, 'r/a', bytes);
    const loc = await startSession(f, 'r/b');
    assert.equal((await f.call('PATCH', loc, { body: bytes, chunked: true })).status, 202);
    const put = await f.call('PUT', withDigest(loc, digest));
    assert.equal(put.status, 201, put.where);
    await pushBlob(f, 'r/a', bytes); // the same repo again
    assert.deepEqual(await filesUnder(f, 'blobs'), [relative(f.dir, f.blobs.blobPath(digest))]);
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
    assert.deepEqual(await readFile(f.blobs.blobPath(digest)), bytes);
    for (const repo of ['r/a', 'r/b']) {
      const head = await f.call('HEAD', `/v2/${repo}/blobs/${digest}`);
      assert.equal(head.status, 200, head.where);
      assert.equal(head.headers['content-length'], String(bytes.byteLength));
    }
    assert.equal((await f.call('HEAD', `/v2/r/c/blobs/${digest}`)).status, 404, 'not visible from an unlinked repo');
  });

  it('the empty descriptor is stored and linked by the registry itself', async (t) => {
    const f = await setup(t);
    assert.deepEqual(await filesUnder(f, 'blobs'), []);
    const body = artifact('empty', { layers: [EMPTY_DESCRIPTOR] });
    const put = await putManifest(f, 'r/art', 'v1', body);
    assert.equal(put.status, 201, put.where);
    const head = await f.call('HEAD', `/v2/r/art/blobs/${EMPTY_DIGEST}`);
    assert.equal(head.status, 200, head.where);
    assert.equal(head.headers['content-length'], '2');
    assert.equal(head.headers['docker-content-digest'], EMPTY_DIGEST);
    assert.equal((await readFile(f.blobs.blobPath(EMPTY_DIGEST))).toString(), '{}');
    const get = await f.call('GET', `/v2/r/art/blobs/${EMPTY_DIGEST}`);
    assert.equal(get.status, 307, get.where);

    // A second repository: linked there too, still one file.
    const put2 = await putManifest(f, 'r/other', 'v1', artifact('empty-2'));
    assert.equal(put2.status, 201, put2.where);
    assert.equal((await f.call('HEAD', `/v2/r/other/blobs/${EMPTY_DIGEST}`)).status, 200);
    assert.deepEqual(await filesUnder(f, 'blobs'), [relative(f.dir, f.blobs.blobPath(EMPTY_DIGEST))]);
  });

  it('a descriptor with the empty digest but a wrong size is not auto-stored', async (t) => {
    const f = await setup(t);
    const body = artifact('bad-empty', { config: { ...EMPTY_DESCRIPTOR, size: 3 } });
    const put = await putManifest(f, 'r/art', 'v1', body);
    assert.ok(put.status === 400 || put.status === 404, put.where);
    assert.ok(['MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN'].includes(errorCodeOf(put) ?? ''), put.where);
  });

  it('manifest references: missing blob 404 MANIFEST_BLOB_UNKNOWN, size mismatch 400 MANIFEST_INVALID, subject may be missing', async (t) => {
    const f = await setup(t);
    const config = utf8('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layer = randomBytes(100);
    await pushBlob(f, 'r/img', config);
    await pushBlob(f, 'r/img', layer);
    const manifest = (layerSize: number, layerDigest = sha256(layer), extra: Record<string, unknown> = {}) =>
      utf8(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.byteLength },
          layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layerSize }],
          ...extra,
        }),
      );
    assertError(await putManifest(f, 'r/img', 'v1', manifest(100, sha256('missing'))), 404, 'MANIFEST_BLOB_UNKNOWN');
    assertError(await putManifest(f, 'r/img', 'v1', manifest(101)), 400, 'MANIFEST_INVALID');
    assertError(await putManifest(f, 'r/elsewhere', 'v1', manifest(100)), 404, 'MANIFEST_BLOB_UNKNOWN');
    const subject = { mediaType: OCI_MANIFEST, digest: sha256('not pushed yet'), size: 123 };
    const ok = await putManifest(f, 'r/img', 'v1', manifest(100, sha256(layer), { subject }));
    assert.equal(ok.status, 201, ok.where);
    assert.equal(ok.headers['oci-subject'], subject.digest);
  });
});
