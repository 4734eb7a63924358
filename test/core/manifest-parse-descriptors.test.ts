// parseManifest (functions/core/manifest.ts) on descriptors: what a valid descriptor may carry,
// every way a layer, config, index child or subject descriptor can be malformed, and
// non-distributable layers, which are not required to exist in the registry. From the OCI image
// spec v1.1 (descriptor, image layer) and the Docker foreign layer types.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseManifest } from '../../functions/core/manifest.ts';
import {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  OCI_LAYER,
  sha256,
  sha512,
  enc,
  d,
  ociManifest,
  ociIndex,
  dockerManifest,
  assertRejected,
} from './manifest-fixtures.ts';

describe('parseManifest: descriptor validation', () => {
  const withLayer = (layer: unknown) => enc(ociManifest({ layers: [layer] }));
  const withConfig = (config: unknown) => enc(ociManifest({ config }));

  it('accepts a full descriptor with urls, annotations, platform, artifactType and data', () => {
    const layer = d(OCI_LAYER, 'full', 12, {
      urls: ['https://example.com/layer'],
      annotations: { 'org.opencontainers.image.title': 'x' },
      artifactType: 'application/vnd.example.thing',
      data: 'e30=',
    });
    const p = parseManifest(withLayer(layer), OCI_MANIFEST);
    const got = p.blobs[1];
    assert.ok(got);
    assert.equal(got.digest, sha256('full'));
    assert.deepEqual(got.urls, ['https://example.com/layer']);
    assert.deepEqual(got.annotations, { 'org.opencontainers.image.title': 'x' });
    assert.equal(got.artifactType, 'application/vnd.example.thing');
  });

  it('accepts sha512 descriptor digests and size 0', () => {
    const p = parseManifest(withLayer({ mediaType: OCI_LAYER, digest: sha512('z'), size: 0 }), OCI_MANIFEST);
    assert.equal(p.blobs[1]?.digest, sha512('z'));
    assert.equal(p.blobs[1]?.size, 0);
  });

  it('accepts a size above 2^32 (int64 sizes)', () => {
    const p = parseManifest(withLayer(d(OCI_LAYER, 'big', 2 ** 40)), OCI_MANIFEST);
    assert.equal(p.blobs[1]?.size, 2 ** 40);
  });

  const badDescriptors: [string, unknown][] = [
    ['not an object', 'sha256:abc'],
    ['null', null],
    ['an array', []],
    ['missing mediaType', { digest: sha256('a'), size: 1 }],
    ['mediaType not a string', { mediaType: 5, digest: sha256('a'), size: 1 }],
    ['mediaType not a media type', { mediaType: 'not a media type', digest: sha256('a'), size: 1 }],
    ['mediaType without subtype', { mediaType: 'application/', digest: sha256('a'), size: 1 }],
    ['missing size', { mediaType: OCI_LAYER, digest: sha256('a') }],
    ['negative size', { mediaType: OCI_LAYER, digest: sha256('a'), size: -1 }],
    ['fractional size', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1.5 }],
    ['string size', { mediaType: OCI_LAYER, digest: sha256('a'), size: '1' }],
    ['annotations not a map', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, annotations: ['a'] }],
    ['annotation value not a string', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, annotations: { a: 1 } }],
    ['urls not an array', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, urls: 'https://x' }],
    ['urls entry not a string', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, urls: [1] }],
    ['platform not an object', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, platform: 'linux/amd64' }],
    ['artifactType not a media type', { mediaType: OCI_LAYER, digest: sha256('a'), size: 1, artifactType: 'nope' }],
  ];
  for (const [why, desc] of badDescriptors) {
    it(`refuses a layer descriptor with ${why}`, () => {
      assertRejected(() => parseManifest(withLayer(desc), OCI_MANIFEST));
    });
    it(`refuses a config descriptor with ${why}`, () => {
      assertRejected(() => parseManifest(withConfig(desc), OCI_MANIFEST));
    });
  }

  // The distribution spec allows DIGEST_INVALID "when a manifest includes an invalid layer digest".
  const badDigests: [string, unknown][] = [
    ['missing', undefined],
    ['not a string', 123],
    ['malformed', 'sha256:xyz'],
    ['uppercase hex', sha256('a').toUpperCase().replace('SHA256', 'sha256')],
    ['unsupported algorithm', `md5:${'0'.repeat(32)}`],
  ];
  for (const [why, digest] of badDigests) {
    it(`refuses a descriptor whose digest is ${why}`, () => {
      assertRejected(() => parseManifest(withLayer({ mediaType: OCI_LAYER, digest, size: 1 }), OCI_MANIFEST), ['MANIFEST_INVALID', 'DIGEST_INVALID']);
      assertRejected(() => parseManifest(enc(ociIndex({ manifests: [{ mediaType: OCI_MANIFEST, digest, size: 1 }] })), OCI_INDEX), [
        'MANIFEST_INVALID',
        'DIGEST_INVALID',
      ]);
    });
  }

  it('refuses a bad descriptor inside an index and a bad subject', () => {
    assertRejected(() => parseManifest(enc(ociIndex({ manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('x'), size: -5 }] })), OCI_INDEX));
    assertRejected(() => parseManifest(enc(ociManifest({ subject: { mediaType: OCI_MANIFEST, digest: sha256('x') } })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ subject: 'sha256:abc' })), OCI_MANIFEST));
  });

  it('refuses non-string annotation values and a non-object annotations map at the top level', () => {
    assertRejected(() => parseManifest(enc(ociManifest({ annotations: { a: true } })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ annotations: 'x' })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociIndex({ annotations: [] })), OCI_INDEX));
  });

  it('refuses a top-level artifactType that is not a media type', () => {
    assertRejected(() => parseManifest(enc(ociManifest({ artifactType: 'signature' })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ artifactType: 42 })), OCI_MANIFEST));
  });
});

describe('parseManifest: non-distributable layers', () => {
  const foreignTypes = [
    'application/vnd.oci.image.layer.nondistributable.v1.tar',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
    'application/vnd.docker.image.rootfs.foreign.diff.tar',
    'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ];
  for (const type of foreignTypes) {
    it(`${type} with urls is not required to exist in the registry`, () => {
      const foreign = d(type, `foreign-${type}`, 4000, { urls: ['https://example.com/foreign.tar'] });
      const normal = d(OCI_LAYER, 'normal', 10);
      const mt = type.includes('docker') ? DOCKER_MANIFEST : OCI_MANIFEST;
      const doc = type.includes('docker') ? dockerManifest({ layers: [foreign, normal] }) : ociManifest({ layers: [foreign, normal] });
      const p = parseManifest(enc(doc), mt);
      const digests = p.blobs.map((b) => b.digest);
      assert.ok(!digests.includes(foreign.digest), 'the foreign layer is not in the required blobs');
      assert.ok(digests.includes(normal.digest), 'the normal layer is still required');
      assert.ok(digests.includes((doc.config as { digest: string }).digest), 'the config is still required');
    });
  }

  it('a non-distributable layer without urls (or with an empty list) is required like any other', () => {
    for (const urls of [undefined, []]) {
      const layer = d('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', `no-urls-${String(urls)}`, 10, urls ? { urls } : {});
      const p = parseManifest(enc(ociManifest({ layers: [layer] })), OCI_MANIFEST);
      assert.ok(p.blobs.some((b) => b.digest === layer.digest), JSON.stringify(urls));
    }
  });

  it('a distributable layer that merely has urls is still required', () => {
    const layer = d(OCI_LAYER, 'with-urls', 10, { urls: ['https://example.com/x'] });
    const p = parseManifest(enc(ociManifest({ layers: [layer] })), OCI_MANIFEST);
    assert.ok(p.blobs.some((b) => b.digest === layer.digest));
  });

  it('a non-distributable layer never lets the config go unchecked', () => {
    const p = parseManifest(
      enc(ociManifest({ layers: [d('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'f', 1, { urls: ['https://x/y'] })] })),
      OCI_MANIFEST,
    );
    assert.deepEqual(
      p.blobs.map((b) => b.digest),
      [sha256('config')],
    );
  });
});
