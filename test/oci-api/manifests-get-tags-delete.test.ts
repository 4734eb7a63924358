// Manifest GET/HEAD and DELETE (end-3, end-9): Accept negotiation, unknown manifests, tags
// (overwriting, several per manifest) and deletion by tag or by digest.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import {
  registryPerFile,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  expectError,
  expectHeadError,
  expectStatus,
  json,
  randomDigest,
  uniqueRepo,
  type Client,
} from './client.ts';
import { manifestHelpers } from './manifest-helpers.ts';

let c: Client;
registryPerFile((client) => (c = client));
const { expectPut, expectManifest } = manifestHelpers(() => c);

describe('Accept negotiation', () => {
  it('matching, wildcard, listed among others, or q-valued -> 200', async () => {
    const repo = uniqueRepo('accept');
    const { body } = await c.pushImage(repo, 't');
    for (const accept of [
      OCI_MANIFEST,
      '*/*',
      'application/*',
      `${DOCKER_MANIFEST}, ${OCI_MANIFEST}`,
      `${DOCKER_MANIFEST};q=0.9, ${OCI_MANIFEST};q=0.5`,
      `${OCI_INDEX},${DOCKER_LIST},${OCI_MANIFEST}`,
    ]) {
      expectManifest(await c.get(`/v2/${repo}/manifests/t`, { accept }), body, OCI_MANIFEST);
      expectManifest(await c.head(`/v2/${repo}/manifests/t`, { accept }), body, OCI_MANIFEST, true);
    }
  });

  it('Accept listing only other media types -> 404 MANIFEST_UNKNOWN (HEAD: no body)', async () => {
    const repo = uniqueRepo('accept');
    const { digest } = await c.pushImage(repo, 't');
    for (const accept of [DOCKER_MANIFEST, `${DOCKER_MANIFEST}, ${DOCKER_LIST}`, 'application/vnd.docker.distribution.manifest.v1+prettyjws']) {
      expectError(await c.get(`/v2/${repo}/manifests/t`, { accept }), 404, 'MANIFEST_UNKNOWN');
      expectError(await c.get(`/v2/${repo}/manifests/${digest}`, { accept }), 404, 'MANIFEST_UNKNOWN');
      expectHeadError(await c.head(`/v2/${repo}/manifests/t`, { accept }), 404);
    }
  });
});

describe('unknown manifests', () => {
  it('unknown tag or digest -> 404 MANIFEST_UNKNOWN; HEAD -> 404 no body', async () => {
    const repo = uniqueRepo('unk');
    await c.pushImage(repo, 'exists');
    const d = randomDigest();
    expectError(await c.get(`/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/${d}`), 404, 'MANIFEST_UNKNOWN');
    expectHeadError(await c.head(`/v2/${repo}/manifests/nope`), 404);
    expectHeadError(await c.head(`/v2/${repo}/manifests/${d}`), 404);
  });

  it('a manifest in repo A is not visible from repo B', async () => {
    const a = uniqueRepo('unk');
    const b = uniqueRepo('unk');
    const { digest } = await c.pushImage(a, 'x');
    await c.pushImage(b, 'y');
    expectError(await c.get(`/v2/${b}/manifests/x`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${b}/manifests/${digest}`), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('tags', () => {
  it('overwriting a tag points it at the new manifest; the old one stays by digest', async () => {
    const repo = uniqueRepo('tag');
    const first = await c.pushImage(repo, 'latest');
    const second = await c.pushImage(repo, 'latest');
    assert.notEqual(first.digest, second.digest);
    expectManifest(await c.get(`/v2/${repo}/manifests/latest`), second.body, OCI_MANIFEST);
    expectManifest(await c.get(`/v2/${repo}/manifests/${first.digest}`), first.body, OCI_MANIFEST);
  });

  it('one manifest under several tags; tags allow upper case, dots, dashes, underscores, 128 chars', async () => {
    const repo = uniqueRepo('tag');
    const body = json(await c.imageManifest(repo));
    const tags = ['v1.0', 'V1_0-rc.1', '_x', 'a'.repeat(128)];
    for (const t of tags) expectPut(await c.putManifest(repo, t, body, OCI_MANIFEST), repo, body);
    for (const t of tags) expectManifest(await c.get(`/v2/${repo}/manifests/${t}`), body, OCI_MANIFEST);
  });
});

describe('DELETE manifest', () => {
  it('by tag -> 202, removes only that tag', async () => {
    const repo = uniqueRepo('mdel');
    const body = json(await c.imageManifest(repo));
    const digest = expectPut(await c.putManifest(repo, 'one', body, OCI_MANIFEST), repo, body);
    expectPut(await c.putManifest(repo, 'two', body, OCI_MANIFEST), repo, body);
    expectStatus(await c.delete(`/v2/${repo}/manifests/one`), 202);
    expectError(await c.get(`/v2/${repo}/manifests/one`), 404, 'MANIFEST_UNKNOWN');
    expectManifest(await c.get(`/v2/${repo}/manifests/two`), body, OCI_MANIFEST);
    expectManifest(await c.get(`/v2/${repo}/manifests/${digest}`), body, OCI_MANIFEST);
    expectError(await c.delete(`/v2/${repo}/manifests/one`), 404, 'MANIFEST_UNKNOWN');
  });

  it('by digest -> 202, removes the manifest and every tag pointing at it', async () => {
    const repo = uniqueRepo('mdel');
    const keep = await c.pushImage(repo, 'keep');
    const body = json(await c.imageManifest(repo));
    const digest = expectPut(await c.putManifest(repo, 'a', body, OCI_MANIFEST), repo, body);
    expectPut(await c.putManifest(repo, 'b', body, OCI_MANIFEST), repo, body);
    expectStatus(await c.delete(`/v2/${repo}/manifests/${digest}`), 202);
    expectError(await c.get(`/v2/${repo}/manifests/${digest}`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/a`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/b`), 404, 'MANIFEST_UNKNOWN');
    expectHeadError(await c.head(`/v2/${repo}/manifests/b`), 404);
    expectManifest(await c.get(`/v2/${repo}/manifests/keep`), keep.body, OCI_MANIFEST);
    const tags = await c.get(`/v2/${repo}/tags/list`);
    expectStatus(tags, 200);
    assert.deepEqual((JSON.parse(tags.text) as { tags: string[] }).tags, ['keep']);
    expectError(await c.delete(`/v2/${repo}/manifests/${digest}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('unknown tag or digest -> 404 MANIFEST_UNKNOWN', async () => {
    const repo = uniqueRepo('mdel');
    await c.pushImage(repo, 'x');
    expectError(await c.delete(`/v2/${repo}/manifests/ghost`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.delete(`/v2/${repo}/manifests/${randomDigest()}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('a deleted manifest can be pushed again', async () => {
    const repo = uniqueRepo('mdel');
    const body = json(await c.imageManifest(repo));
    const digest = expectPut(await c.putManifest(repo, 'x', body, OCI_MANIFEST), repo, body);
    expectStatus(await c.delete(`/v2/${repo}/manifests/${digest}`), 202);
    expectPut(await c.putManifest(repo, 'x', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/x`), body, OCI_MANIFEST);
  });
});
