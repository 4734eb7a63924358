// Manifest parsing and validation (functions/core/manifest.ts), from the OCI image spec v1.1
// (manifest, index, descriptor, artifacts), the Docker image manifest v2 schema 2 / manifest list,
// the distribution spec's PUT rules and RFC 9110 Accept semantics.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RegistryError } from '../../functions/core/errors.ts';
import { acceptable, digestOf, EMPTY_BLOB, MANIFEST_MEDIA_TYPES, MediaTypes, parseManifest } from '../../functions/core/manifest.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const EMPTY_TYPE = 'application/vnd.oci.empty.v1+json';
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const sha256 = (s: string | Uint8Array): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const sha512 = (s: string | Uint8Array): string => `sha512:${createHash('sha512').update(s).digest('hex')}`;
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

const d = (mediaType: string, seed: string, size = 10, extra: Record<string, unknown> = {}) => ({ mediaType, digest: sha256(seed), size, ...extra });
const emptyDescriptor = { mediaType: EMPTY_TYPE, digest: EMPTY_DIGEST, size: 2 };

function ociManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: d(OCI_CONFIG, 'config', 100),
    layers: [d(OCI_LAYER, 'layer1', 1000), d(OCI_LAYER, 'layer2', 2000)],
    ...extra,
  };
}

function ociIndex(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      d(OCI_MANIFEST, 'amd64', 500, { platform: { os: 'linux', architecture: 'amd64' } }),
      d(OCI_MANIFEST, 'arm64', 501, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ],
    ...extra,
  };
}

function dockerManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: d(DOCKER_CONFIG, 'dconfig', 1500),
    layers: [d(DOCKER_LAYER, 'dlayer', 3000)],
    ...extra,
  };
}

function dockerList(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_LIST,
    manifests: [d(DOCKER_MANIFEST, 'damd64', 700, { platform: { os: 'linux', architecture: 'amd64' } })],
    ...extra,
  };
}

/** Asserts a 400-class RegistryError with one of `codes`. */
function assertRejected(fn: () => unknown, codes: string[] = ['MANIFEST_INVALID'], status = 400): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected a RegistryError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}`);
    assert.equal(e.status, status);
    return true;
  });
}

describe('parseManifest: the four manifest media types', () => {
  it('exports exactly the four supported types', () => {
    assert.deepEqual([...MANIFEST_MEDIA_TYPES].sort(), [DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST].sort());
    assert.equal(MediaTypes.ociEmpty, EMPTY_TYPE);
  });

  it('OCI image manifest: config and layers are the blobs, no child manifests', () => {
    const m = ociManifest();
    const p = parseManifest(enc(m), OCI_MANIFEST);
    assert.equal(p.mediaType, OCI_MANIFEST);
    assert.equal(p.isIndex, false);
    assert.deepEqual(p.manifests, []);
    assert.deepEqual(
      p.blobs.map((b) => [b.mediaType, b.digest, b.size]),
      [
        [OCI_CONFIG, sha256('config'), 100],
        [OCI_LAYER, sha256('layer1'), 1000],
        [OCI_LAYER, sha256('layer2'), 2000],
      ],
    );
    assert.equal(p.subject, undefined);
    assert.equal(p.annotations, undefined);
  });

  it('OCI image index: child manifests, no blobs', () => {
    const p = parseManifest(enc(ociIndex()), OCI_INDEX);
    assert.equal(p.mediaType, OCI_INDEX);
    assert.equal(p.isIndex, true);
    assert.deepEqual(p.blobs, []);
    assert.deepEqual(
      p.manifests.map((m) => [m.mediaType, m.digest, m.size]),
      [
        [OCI_MANIFEST, sha256('amd64'), 500],
        [OCI_MANIFEST, sha256('arm64'), 501],
      ],
    );
    assert.deepEqual(p.manifests[1]?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(p.artifactType, undefined, 'an index without artifactType has none');
  });

  it('Docker schema 2 manifest', () => {
    const p = parseManifest(enc(dockerManifest()), DOCKER_MANIFEST);
    assert.equal(p.mediaType, DOCKER_MANIFEST);
    assert.equal(p.isIndex, false);
    assert.deepEqual(
      p.blobs.map((b) => b.digest),
      [sha256('dconfig'), sha256('dlayer')],
    );
    assert.deepEqual(p.manifests, []);
  });

  it('Docker manifest list', () => {
    const p = parseManifest(enc(dockerList()), DOCKER_LIST);
    assert.equal(p.mediaType, DOCKER_LIST);
    assert.equal(p.isIndex, true);
    assert.deepEqual(p.blobs, []);
    assert.deepEqual(
      p.manifests.map((m) => m.digest),
      [sha256('damd64')],
    );
  });

  it('an index may be empty (manifests: [])', () => {
    const p = parseManifest(enc(ociIndex({ manifests: [] })), OCI_INDEX);
    assert.deepEqual(p.manifests, []);
  });

  it('an index may list nested indexes and mixed child types', () => {
    const p = parseManifest(enc(ociIndex({ manifests: [d(OCI_INDEX, 'nested', 300), d(DOCKER_MANIFEST, 'docker', 301)] })), OCI_INDEX);
    assert.deepEqual(
      p.manifests.map((m) => m.mediaType),
      [OCI_INDEX, DOCKER_MANIFEST],
    );
  });
});

describe('parseManifest: Content-Type versus the body mediaType', () => {
  it('without Content-Type, the body mediaType decides', () => {
    assert.equal(parseManifest(enc(ociManifest()), undefined).mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(enc(ociIndex()), undefined).mediaType, OCI_INDEX);
    assert.equal(parseManifest(enc(dockerManifest()), undefined).mediaType, DOCKER_MANIFEST);
    assert.equal(parseManifest(enc(dockerList()), undefined).mediaType, DOCKER_LIST);
  });

  it('without a body mediaType (optional in OCI), Content-Type decides', () => {
    const m = ociManifest();
    delete m.mediaType;
    assert.equal(parseManifest(enc(m), OCI_MANIFEST).mediaType, OCI_MANIFEST);
    const i = ociIndex();
    delete i.mediaType;
    const p = parseManifest(enc(i), OCI_INDEX);
    assert.equal(p.mediaType, OCI_INDEX);
    assert.equal(p.isIndex, true);
  });

  it('neither Content-Type nor body mediaType: refused', () => {
    const m = ociManifest();
    delete m.mediaType;
    assertRejected(() => parseManifest(enc(m), undefined));
    assertRejected(() => parseManifest(enc(m), ''));
  });

  it('Content-Type parameters and case are ignored', () => {
    assert.equal(parseManifest(enc(ociManifest()), `${OCI_MANIFEST}; charset=utf-8`).mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(enc(ociManifest()), `  ${OCI_MANIFEST}  `).mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(enc(ociManifest()), OCI_MANIFEST.toUpperCase()).mediaType, OCI_MANIFEST);
  });

  it('a body mediaType that differs from Content-Type: MANIFEST_INVALID', () => {
    assertRejected(() => parseManifest(enc(ociManifest()), DOCKER_MANIFEST));
    assertRejected(() => parseManifest(enc(dockerManifest()), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociIndex()), DOCKER_LIST));
    // An image manifest body announced as an index, and the reverse (the ambiguity behind
    // CVE-2021-41190 / GHSA-mc8v-mgrf-8f4m).
    assertRejected(() => parseManifest(enc(ociManifest()), OCI_INDEX));
    assertRejected(() => parseManifest(enc(ociIndex()), OCI_MANIFEST));
  });

  it('unsupported media types (Docker schema 1, arbitrary JSON, the empty type): MANIFEST_INVALID', () => {
    const schema1 = { schemaVersion: 2, mediaType: DOCKER_SCHEMA1, config: d(OCI_CONFIG, 'c'), layers: [] };
    assertRejected(() => parseManifest(enc(schema1), undefined));
    assertRejected(() => parseManifest(enc({ ...ociManifest(), mediaType: undefined }), DOCKER_SCHEMA1));
    assertRejected(() => parseManifest(enc({ ...ociManifest(), mediaType: undefined }), 'application/json'));
    assertRejected(() => parseManifest(enc({ ...ociManifest(), mediaType: undefined }), EMPTY_TYPE));
    assertRejected(() => parseManifest(enc({ ...ociManifest(), mediaType: 'application/vnd.example+json' }), undefined));
  });

  it('a real Docker schema 1 manifest (schemaVersion 1) is refused', () => {
    const schema1 = { schemaVersion: 1, name: 'x', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    assertRejected(() => parseManifest(enc(schema1), DOCKER_SCHEMA1));
    assertRejected(() => parseManifest(enc(schema1), undefined));
  });
});

describe('parseManifest: structure', () => {
  it('invalid JSON, non-objects and invalid UTF-8 are MANIFEST_INVALID', () => {
    for (const body of ['', '{', '{"schemaVersion":2,}', 'null', '[]', '2', '"x"', 'true']) {
      assertRejected(() => parseManifest(enc(body), OCI_MANIFEST));
    }
    const badUtf8 = new Uint8Array([...enc('{"schemaVersion":2,"x":"'), 0xff, 0xfe, ...enc('"}')]);
    assertRejected(() => parseManifest(badUtf8, OCI_MANIFEST));
  });

  it('schemaVersion must be the number 2', () => {
    for (const v of [1, 3, '2', 2.5, null, undefined]) {
      assertRejected(() => parseManifest(enc(ociManifest({ schemaVersion: v })), OCI_MANIFEST));
    }
  });

  it('an image manifest needs a config descriptor and a layers array', () => {
    const noConfig = ociManifest();
    delete noConfig.config;
    assertRejected(() => parseManifest(enc(noConfig), OCI_MANIFEST));
    const noLayers = ociManifest();
    delete noLayers.layers;
    assertRejected(() => parseManifest(enc(noLayers), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ layers: {} })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ config: [] })), OCI_MANIFEST));
    assertRejected(() => parseManifest(enc(ociManifest({ config: 'sha256:x' })), OCI_MANIFEST));
  });

  it('an index needs a manifests array', () => {
    const noManifests = ociIndex();
    delete noManifests.manifests;
    assertRejected(() => parseManifest(enc(noManifests), OCI_INDEX));
    assertRejected(() => parseManifest(enc(ociIndex({ manifests: {} })), OCI_INDEX));
    assertRejected(() => parseManifest(enc(dockerList({ manifests: null })), DOCKER_LIST));
  });

  it('ambiguous documents (an index with config/layers, a manifest with manifests) are refused', () => {
    assertRejected(() => parseManifest(enc(ociIndex({ config: d(OCI_CONFIG, 'c') })), OCI_INDEX));
    assertRejected(() => parseManifest(enc(ociIndex({ layers: [d(OCI_LAYER, 'l')] })), OCI_INDEX));
    assertRejected(() => parseManifest(enc(ociManifest({ manifests: [d(OCI_MANIFEST, 'm')] })), OCI_MANIFEST));
  });

  it('unknown top-level properties are ignored (image spec: MUST NOT error on unknown properties)', () => {
    const p = parseManifest(enc(ociManifest({ 'x-vendor': { a: 1 }, extra: [1, 2] })), OCI_MANIFEST);
    assert.equal(p.blobs.length, 3);
  });
});

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

describe('parseManifest: subject, artifactType, annotations (OCI 1.1 artifacts)', () => {
  const subject = d(OCI_MANIFEST, 'the-subject', 1234);

  it('extracts subject and annotations from an image manifest', () => {
    const annotations = { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'com.example.k': 'v' };
    const p = parseManifest(enc(ociManifest({ subject, annotations })), OCI_MANIFEST);
    assert.deepEqual(p.subject && [p.subject.mediaType, p.subject.digest, p.subject.size], [OCI_MANIFEST, subject.digest, 1234]);
    assert.deepEqual(p.annotations, annotations);
    assert.ok(!p.blobs.some((b) => b.digest === subject.digest), 'the subject is not a required blob');
    assert.ok(!p.manifests.some((m) => m.digest === subject.digest), 'the subject is not a required child manifest');
  });

  it('artifactType: explicit value wins', () => {
    const p = parseManifest(enc(ociManifest({ artifactType: 'application/vnd.example.sbom+json', config: emptyDescriptor })), OCI_MANIFEST);
    assert.equal(p.artifactType, 'application/vnd.example.sbom+json');
  });

  it('artifactType of an image manifest without one is its config mediaType', () => {
    assert.equal(parseManifest(enc(ociManifest()), OCI_MANIFEST).artifactType, OCI_CONFIG);
    const custom = parseManifest(enc(ociManifest({ config: d('application/vnd.cncf.helm.config.v1+json', 'helm', 50) })), OCI_MANIFEST);
    assert.equal(custom.artifactType, 'application/vnd.cncf.helm.config.v1+json');
  });

  it('an artifact manifest: empty config, empty layers array, artifactType and subject', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: emptyDescriptor,
      layers: [],
      subject,
      annotations: { 'org.opencontainers.image.created': 'now' },
    };
    const p = parseManifest(enc(doc), OCI_MANIFEST);
    assert.equal(p.artifactType, 'application/vnd.example.signature');
    assert.deepEqual(
      p.blobs.map((b) => [b.mediaType, b.digest, b.size]),
      [[EMPTY_TYPE, EMPTY_DIGEST, 2]],
    );
    assert.equal(p.subject?.digest, subject.digest);
  });

  it('an artifact whose single layer is the empty descriptor', () => {
    const p = parseManifest(enc(ociManifest({ artifactType: 'application/vnd.example.x', config: emptyDescriptor, layers: [emptyDescriptor] })), OCI_MANIFEST);
    assert.deepEqual(
      p.blobs.map((b) => b.digest),
      [EMPTY_DIGEST, EMPTY_DIGEST],
    );
  });

  it('an index may carry subject, artifactType and annotations', () => {
    const p = parseManifest(enc(ociIndex({ subject, artifactType: 'application/vnd.example.bundle', annotations: { a: 'b' } })), OCI_INDEX);
    assert.equal(p.subject?.digest, subject.digest);
    assert.equal(p.artifactType, 'application/vnd.example.bundle');
    assert.deepEqual(p.annotations, { a: 'b' });
  });

  it('descriptor-level artifactType and annotations in an index are kept', () => {
    const child = d(OCI_MANIFEST, 'sig', 10, { artifactType: 'application/vnd.example.sig', annotations: { k: 'v' } });
    const p = parseManifest(enc(ociIndex({ manifests: [child] })), OCI_INDEX);
    assert.equal(p.manifests[0]?.artifactType, 'application/vnd.example.sig');
    assert.deepEqual(p.manifests[0]?.annotations, { k: 'v' });
  });

  it('a Docker schema 2 manifest has no artifactType', () => {
    assert.equal(parseManifest(enc(dockerManifest()), DOCKER_MANIFEST).artifactType, undefined);
  });
});

describe('EMPTY_BLOB and digestOf', () => {
  it('EMPTY_BLOB is the image spec empty descriptor: "{}", size 2, its sha256', () => {
    assert.equal(new TextDecoder().decode(EMPTY_BLOB.bytes), '{}');
    assert.equal(EMPTY_BLOB.size, 2);
    assert.equal(EMPTY_BLOB.digest, EMPTY_DIGEST);
    assert.equal(sha256('{}'), EMPTY_DIGEST);
  });

  it('digestOf computes sha256 and sha512 over the exact bytes', () => {
    const body = enc('{"schemaVersion":2}\n');
    assert.equal(digestOf('sha256', body), sha256(body));
    assert.equal(digestOf('sha512', body), sha512(body));
    assert.notEqual(digestOf('sha256', enc('{"schemaVersion": 2}')), digestOf('sha256', enc('{"schemaVersion":2}')));
  });
});

describe('acceptable(): Accept negotiation for manifest GET/HEAD', () => {
  it('no Accept header or an empty one accepts anything', () => {
    assert.equal(acceptable(undefined, OCI_MANIFEST), true);
    assert.equal(acceptable('', DOCKER_LIST), true);
  });

  it('an exact match is acceptable, a different type is not', () => {
    assert.equal(acceptable(OCI_MANIFEST, OCI_MANIFEST), true);
    assert.equal(acceptable(DOCKER_MANIFEST, OCI_MANIFEST), false);
    assert.equal(acceptable(OCI_MANIFEST, OCI_INDEX), false);
    assert.equal(acceptable('application/json', OCI_MANIFEST), false);
  });

  it('lists, with or without spaces, and repeated headers joined with ", "', () => {
    const list = `${DOCKER_MANIFEST}, ${DOCKER_LIST},${OCI_MANIFEST} ,  ${OCI_INDEX}`;
    for (const t of [DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX]) assert.equal(acceptable(list, t), true, t);
    assert.equal(acceptable(`${DOCKER_MANIFEST}, ${DOCKER_LIST}`, OCI_INDEX), false);
    // What containerd sends when resolving.
    const containerd = `${DOCKER_MANIFEST}, ${DOCKER_LIST}, ${OCI_MANIFEST}, ${OCI_INDEX}, */*`;
    assert.equal(acceptable(containerd, OCI_INDEX), true);
  });

  it('wildcards */* and application/* match; other type wildcards do not', () => {
    assert.equal(acceptable('*/*', OCI_MANIFEST), true);
    assert.equal(acceptable('application/*', DOCKER_LIST), true);
    assert.equal(acceptable(`${DOCKER_MANIFEST}, */*`, OCI_MANIFEST), true);
    assert.equal(acceptable('text/*', OCI_MANIFEST), false);
    assert.equal(acceptable('image/*, text/plain', OCI_MANIFEST), false);
  });

  it('media type matching is case-insensitive and ignores parameters other than q', () => {
    assert.equal(acceptable(OCI_MANIFEST.toUpperCase(), OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST}; charset=utf-8`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.5`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST}; q=1`, OCI_MANIFEST), true);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.001`, OCI_MANIFEST), true, 'q=0.001 is still acceptable');
  });

  it('q=0 makes an entry not acceptable', () => {
    assert.equal(acceptable(`${OCI_MANIFEST};q=0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST}; q=0.0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0.000, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${OCI_MANIFEST};q=0, ${DOCKER_MANIFEST}`, DOCKER_MANIFEST), true);
    assert.equal(acceptable('*/*;q=0, text/plain', OCI_MANIFEST), false);
  });

  it('the q parameter name is case-insensitive (RFC 9110 §5.6.6)', () => {
    assert.equal(acceptable(`${OCI_MANIFEST};Q=0, ${DOCKER_MANIFEST}`, OCI_MANIFEST), false);
  });

  it('an Accept header whose only entries have q=0 accepts none of them', () => {
    // RFC 9110 §12.5.1: q=0 means "not acceptable"; the header still lists media types, so the
    // registry must not fall back to "anything goes".
    assert.equal(acceptable(`${OCI_MANIFEST};q=0`, OCI_MANIFEST), false);
    assert.equal(acceptable(`${DOCKER_MANIFEST};q=0`, OCI_MANIFEST), false);
  });

  it('a more specific q=0 overrides a matching wildcard (RFC 9110 §12.5.1 precedence)', () => {
    assert.equal(acceptable(`application/*, ${OCI_MANIFEST};q=0`, OCI_MANIFEST), false);
    assert.equal(acceptable(`*/*, ${OCI_INDEX};q=0`, OCI_INDEX), false);
    assert.equal(acceptable(`*/*, ${OCI_INDEX};q=0`, OCI_MANIFEST), true);
  });
});
