// parseManifest (functions/core/manifest.ts) on whole documents: the four manifest media types
// (OCI image manifest and index, Docker schema 2 manifest and manifest list), how Content-Type and
// the body mediaType decide the type, and the document structure each type needs. From the OCI
// image spec v1.1, the Docker image manifest v2 schema 2 / manifest list and the distribution
// spec's PUT rules.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { MANIFEST_MEDIA_TYPES, MediaTypes, parseManifest } from '../../functions/core/manifest.ts';
import {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  DOCKER_SCHEMA1,
  OCI_CONFIG,
  OCI_LAYER,
  EMPTY_TYPE,
  sha256,
  enc,
  d,
  ociManifest,
  ociIndex,
  dockerManifest,
  dockerList,
  assertRejected,
} from './manifest-fixtures.ts';

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
