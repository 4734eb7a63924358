// Referrers API (end-12a/12b) and the subject field on manifest PUT (OCI-Subject).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import type {
  Client} from './client.ts';
import {
  registryPerFile,
  EMPTY_DESCRIPTOR,
  OCI_INDEX,
  OCI_MANIFEST,
  bodyJson,
  bytes,
  expectStatus,
  json,
  randomDigest,
  sha256,
  uniqueRepo,
  utf8,
  type Descriptor,
  type Reply,
} from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

const SBOM = 'application/vnd.example.sbom.v1';
const SIG = 'application/vnd.example.signature.v1';
const CUSTOM_CONFIG = 'application/vnd.example.config.v1+json';

interface Referrer {
  digest: string;
  body: Buffer;
  descriptor: Descriptor;
}

/** Pushes an artifact manifest referring to `subject`; asserts 201 and OCI-Subject. */
async function pushReferrer(
  repo: string,
  subject: { digest: string; size: number; mediaType?: string },
  opts: { artifactType?: string; configMediaType?: string; annotations?: Record<string, string>; tag?: string } = {},
): Promise<Referrer> {
  const layer = await c.blob(repo, bytes(64), 'application/octet-stream');
  const config =
    opts.configMediaType === undefined ? EMPTY_DESCRIPTOR : await c.blob(repo, utf8(`{"x":"${bytes(4).toString('hex')}"}`), opts.configMediaType);
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST };
  if (opts.artifactType !== undefined) manifest.artifactType = opts.artifactType;
  manifest.config = config;
  manifest.layers = [layer];
  manifest.subject = { mediaType: subject.mediaType ?? OCI_MANIFEST, digest: subject.digest, size: subject.size };
  if (opts.annotations !== undefined) manifest.annotations = opts.annotations;
  const body = json(manifest);
  const digest = sha256(body);
  const r = await c.putManifest(repo, opts.tag ?? digest, body, OCI_MANIFEST);
  expectStatus(r, 201);
  assert.equal(r.headers.get('oci-subject'), subject.digest, `OCI-Subject: ${r.where}`);
  assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
  const descriptor: Descriptor = { mediaType: OCI_MANIFEST, digest, size: body.length };
  const at = opts.artifactType ?? config.mediaType;
  descriptor.artifactType = at;
  if (opts.annotations !== undefined) descriptor.annotations = opts.annotations;
  return { digest, body, descriptor };
}

interface IndexBody {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

/** GET referrers and assert the index shape; returns the reply and its manifests sorted by digest. */
async function referrers(repo: string, subject: string, artifactType?: string): Promise<{ r: Reply; manifests: Descriptor[] }> {
  const q = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  const r = await c.get(`/v2/${repo}/referrers/${subject}${q}`);
  expectStatus(r, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/vnd\.oci\.image\.index\.v1\+json\b/, `Content-Type: ${r.where}`);
  const index = bodyJson<IndexBody>(r);
  assert.equal(index.schemaVersion, 2, r.where);
  assert.equal(index.mediaType, OCI_INDEX, r.where);
  assert.ok(Array.isArray(index.manifests), r.where);
  // An empty annotations object is the same as none (the spec does not say which to send).
  const manifests = index.manifests.map((d) => {
    if (d.annotations === undefined || Object.keys(d.annotations).length > 0) return d;
    const { annotations: _none, ...rest } = d;
    return rest;
  });
  return { r, manifests: byDigest(manifests) };
}

const byDigest = (ds: Descriptor[]): Descriptor[] => [...ds].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));

describe('manifest PUT with subject', () => {
  it('answers OCI-Subject; the referrers list has the full descriptors', async () => {
    const repo = uniqueRepo('ref');
    const subject = await c.pushImage(repo, 'v1');
    const sbom = await pushReferrer(repo, subject, { artifactType: SBOM, annotations: { 'org.example.kind': 'spdx', 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' } });
    const sig = await pushReferrer(repo, subject, { artifactType: SIG });
    // No artifactType: the config media type is the artifact type.
    const plain = await pushReferrer(repo, subject, { configMediaType: CUSTOM_CONFIG });
    assert.equal(plain.descriptor.artifactType, CUSTOM_CONFIG);

    const { r, manifests } = await referrers(repo, subject.digest);
    assert.equal(r.headers.get('oci-filters-applied'), null, 'no filter was requested');
    assert.deepEqual(manifests, byDigest([sbom.descriptor, sig.descriptor, plain.descriptor]));
  });

  it('a referrer pushed by tag is listed too', async () => {
    const repo = uniqueRepo('ref');
    const subject = await c.pushImage(repo, 'v1');
    const ref = await pushReferrer(repo, subject, { artifactType: SIG, tag: 'sig-tag' });
    const { manifests } = await referrers(repo, subject.digest);
    assert.deepEqual(manifests, [ref.descriptor]);
  });

  it('an index with a subject is listed; artifactType comes from the index (omitted when it has none)', async () => {
    const repo = uniqueRepo('ref');
    const subject = await c.pushImage(repo, 'v1');
    const child = await c.pushImage(repo, 'child');
    const mk = (artifactType?: string): Buffer =>
      json({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        ...(artifactType === undefined ? {} : { artifactType }),
        manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size }],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
        annotations: { n: bytes(4).toString('hex') },
      });
    const withType = mk('application/vnd.example.bundle');
    const without = mk();
    for (const body of [withType, without]) {
      const r = await c.putManifest(repo, sha256(body), body, OCI_INDEX);
      expectStatus(r, 201);
      assert.equal(r.headers.get('oci-subject'), subject.digest, r.where);
    }
    const { manifests } = await referrers(repo, subject.digest);
    const parse = (b: Buffer): { annotations: Record<string, string> } => JSON.parse(b.toString()) as { annotations: Record<string, string> };
    assert.deepEqual(
      manifests,
      byDigest([
        { mediaType: OCI_INDEX, digest: sha256(withType), size: withType.length, artifactType: 'application/vnd.example.bundle', annotations: parse(withType).annotations },
        { mediaType: OCI_INDEX, digest: sha256(without), size: without.length, annotations: parse(without).annotations },
      ]),
    );
  });

  it('a manifest without subject answers no OCI-Subject header', async () => {
    const repo = uniqueRepo('ref');
    const m = await c.imageManifest(repo);
    const r = await c.putManifest(repo, 'plain', m, OCI_MANIFEST);
    expectStatus(r, 201);
    assert.equal(r.headers.get('oci-subject'), null, r.where);
  });
});

describe('artifactType filter', () => {
  it('?artifactType= filters and sets OCI-Filters-Applied: artifactType', async () => {
    const repo = uniqueRepo('filter');
    const subject = await c.pushImage(repo, 'v1');
    const sbom = await pushReferrer(repo, subject, { artifactType: SBOM });
    await pushReferrer(repo, subject, { artifactType: SIG });
    const plain = await pushReferrer(repo, subject, { configMediaType: CUSTOM_CONFIG });

    const one = await referrers(repo, subject.digest, SBOM);
    assert.equal(one.r.headers.get('oci-filters-applied'), 'artifactType', one.r.where);
    assert.deepEqual(one.manifests, [sbom.descriptor]);

    const cfg = await referrers(repo, subject.digest, CUSTOM_CONFIG);
    assert.equal(cfg.r.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(cfg.manifests, [plain.descriptor]);

    const none = await referrers(repo, subject.digest, 'application/vnd.example.none');
    assert.equal(none.r.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(none.manifests, []);
  });
});

describe('subjects and lifecycle', () => {
  it('the subject need not exist yet; the referrer is listed under it, and the subject can come later', async () => {
    const repo = uniqueRepo('life');
    await c.pushImage(repo, 'other');
    const later = json(await c.imageManifest(repo));
    const subject = { digest: sha256(later), size: later.length };
    const ref = await pushReferrer(repo, subject, { artifactType: SBOM });
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, [ref.descriptor]);
    // The subject arrives afterwards; nothing changes in the list.
    const r = await c.putManifest(repo, 'later', later, OCI_MANIFEST);
    expectStatus(r, 201);
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, [ref.descriptor]);
  });

  it('no referrers -> 200 with an empty list (never 404), also for an unknown repository', async () => {
    const repo = uniqueRepo('life');
    const subject = await c.pushImage(repo, 'v1');
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, []);
    assert.deepEqual((await referrers(repo, randomDigest())).manifests, []);
    assert.deepEqual((await referrers(uniqueRepo('ghost'), randomDigest())).manifests, []);
  });

  it('a referrer disappears when its manifest is deleted (by digest), not when only its tag is deleted', async () => {
    const repo = uniqueRepo('life');
    const subject = await c.pushImage(repo, 'v1');
    const a = await pushReferrer(repo, subject, { artifactType: SBOM, tag: 'a-tag' });
    const b = await pushReferrer(repo, subject, { artifactType: SIG });
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, byDigest([a.descriptor, b.descriptor]));

    expectStatus(await c.delete(`/v2/${repo}/manifests/a-tag`), 202);
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, byDigest([a.descriptor, b.descriptor]));

    expectStatus(await c.delete(`/v2/${repo}/manifests/${b.digest}`), 202);
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, [a.descriptor]);
    expectStatus(await c.delete(`/v2/${repo}/manifests/${a.digest}`), 202);
    assert.deepEqual((await referrers(repo, subject.digest)).manifests, []);
  });

  it('referrers are per repository', async () => {
    const a = uniqueRepo('life');
    const b = uniqueRepo('life');
    const subjectBody = json(await c.imageManifest(a));
    const subject = { digest: sha256(subjectBody), size: subjectBody.length };
    expectStatus(await c.putManifest(a, 'v1', subjectBody, OCI_MANIFEST), 201);
    const ref = await pushReferrer(a, subject, { artifactType: SBOM });
    await c.pushImage(b, 'x');
    assert.deepEqual((await referrers(a, subject.digest)).manifests, [ref.descriptor]);
    assert.deepEqual((await referrers(b, subject.digest)).manifests, []);
  });
});
