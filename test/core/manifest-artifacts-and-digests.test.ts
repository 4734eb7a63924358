// OCI 1.1 artifacts in parseManifest (functions/core/manifest.ts): subject, artifactType (explicit
// or from the config) and annotations on manifests and indexes; plus EMPTY_BLOB, the image spec's
// empty descriptor, and digestOf over the exact manifest bytes.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { digestOf, EMPTY_BLOB, parseManifest } from '../../functions/core/manifest.ts';
import {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  EMPTY_TYPE,
  EMPTY_DIGEST,
  sha256,
  sha512,
  enc,
  d,
  emptyDescriptor,
  ociManifest,
  ociIndex,
  dockerManifest,
} from './manifest-fixtures.ts';

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
