// Manifest PUT (end-7): the four media types and artifacts read back with GET/HEAD, byte-exact
// storage, validation of the document, its references and its digest, and the 4 MiB limit.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import {
  registryPerFile,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  EMPTY_DESCRIPTOR,
  EMPTY_DIGEST,
  MAX_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  bytes,
  expectError,
  expectStatus,
  json,
  paddedManifest,
  randomDigest,
  sha256,
  uniqueRepo,
  utf8,
  type Client,
} from './client.ts';
import { manifestHelpers } from './manifest-helpers.ts';

let c: Client;
registryPerFile((client) => (c = client));
const { expectPut, expectManifest, dockerImage } = manifestHelpers(() => c);

describe('PUT + GET + HEAD per media type', () => {
  it('OCI image manifest by tag, then GET/HEAD by tag and by digest', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    const r = await c.putManifest(repo, 'v1', body, OCI_MANIFEST);
    const digest = expectPut(r, repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/v1`), body, OCI_MANIFEST);
    expectManifest(await c.get(`/v2/${repo}/manifests/${digest}`), body, OCI_MANIFEST);
    expectManifest(await c.head(`/v2/${repo}/manifests/v1`), body, OCI_MANIFEST, true);
    expectManifest(await c.head(`/v2/${repo}/manifests/${digest}`), body, OCI_MANIFEST, true);
  });

  it('index whose entries are blobs of the repo (BuildKit registry cache) -> 201; a foreign blob, or a blob posing as a manifest, is unknown', async () => {
    const repo = uniqueRepo('man');
    const layer = await c.blob(repo, bytes(2000), OCI_LAYER_GZIP);
    const cacheConfig = await c.blob(repo, json({ layers: [{ blob: layer.digest }] }), 'application/vnd.buildkit.cacheconfig.v0');
    const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [layer, cacheConfig] });
    expectPut(await c.putManifest(repo, 'buildcache', index, OCI_INDEX), repo, index);
    expectManifest(await c.get(`/v2/${repo}/manifests/buildcache`), index, OCI_INDEX);
    const elsewhere = uniqueRepo('man');
    const foreign = await c.blob(elsewhere, bytes(100), OCI_LAYER_GZIP);
    const bad = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [layer, foreign] });
    const r = await c.putManifest(repo, 'bad', bad, OCI_INDEX);
    expectError(r, 404, 'MANIFEST_BLOB_UNKNOWN');
    // An entry that claims to be a manifest must be one.
    const claimed = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...layer, mediaType: OCI_MANIFEST }] });
    expectError(await c.putManifest(repo, 'bad', claimed, OCI_INDEX), 404, 'MANIFEST_BLOB_UNKNOWN');
    const sized = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...layer, size: layer.size + 1 }] });
    expectError(await c.putManifest(repo, 'bad', sized, OCI_INDEX), 400, 'MANIFEST_INVALID');
  });

  it('Docker schema 2 manifest', async () => {
    const repo = uniqueRepo('man');
    const body = json(await dockerImage(repo));
    expectPut(await c.putManifest(repo, 'd1', body, DOCKER_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/d1`), body, DOCKER_MANIFEST);
    expectManifest(await c.head(`/v2/${repo}/manifests/${sha256(body)}`), body, DOCKER_MANIFEST, true);
  });

  it('OCI index over two platform manifests pushed by digest', async () => {
    const repo = uniqueRepo('man');
    const a = json(await c.imageManifest(repo));
    const b = json(await c.imageManifest(repo));
    const da = expectPut(await c.putManifest(repo, sha256(a), a, OCI_MANIFEST), repo, a);
    const db = expectPut(await c.putManifest(repo, sha256(b), b, OCI_MANIFEST), repo, b);
    const index = json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: da, size: a.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: db, size: b.length, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    expectPut(await c.putManifest(repo, 'multi', index, OCI_INDEX), repo, index);
    expectManifest(await c.get(`/v2/${repo}/manifests/multi`), index, OCI_INDEX);
    expectManifest(await c.get(`/v2/${repo}/manifests/${da}`), a, OCI_MANIFEST);
  });

  it('Docker manifest list over Docker manifests', async () => {
    const repo = uniqueRepo('man');
    const a = json(await dockerImage(repo));
    const da = expectPut(await c.putManifest(repo, sha256(a), a, DOCKER_MANIFEST), repo, a);
    const list = json({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [{ mediaType: DOCKER_MANIFEST, digest: da, size: a.length, platform: { os: 'linux', architecture: 'arm64' } }],
    });
    expectPut(await c.putManifest(repo, 'list', list, DOCKER_LIST), repo, list);
    expectManifest(await c.get(`/v2/${repo}/manifests/list`), list, DOCKER_LIST);
  });

  it('artifact manifest: custom artifactType, empty-descriptor config never uploaded; the empty blob is then readable', async () => {
    const repo = uniqueRepo('man');
    const layer = await c.blob(repo, utf8('{"sbom":true}'), 'application/vnd.example.sbom.v1+json');
    const body = json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom.v1',
      config: EMPTY_DESCRIPTOR,
      layers: [layer],
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    expectPut(await c.putManifest(repo, 'sbom', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/sbom`), body, OCI_MANIFEST);
    // A client pulling the artifact fetches its config blob.
    const head = await c.head(`/v2/${repo}/blobs/${EMPTY_DIGEST}`);
    expectStatus(head, 200);
    assert.equal(head.headers.get('content-length'), '2');
    const redirect = await c.get(`/v2/${repo}/blobs/${EMPTY_DIGEST}`);
    expectStatus(redirect, 307);
    const got = await c.get(redirect.headers.get('location') ?? '');
    assert.equal(got.status, 200, got.where);
    assert.equal(got.text, '{}');
  });

  it('artifact manifest whose only layer is the empty descriptor', async () => {
    const repo = uniqueRepo('man');
    const body = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.thing', config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR] });
    expectPut(await c.putManifest(repo, 'thing', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/thing`), body, OCI_MANIFEST);
  });

  it('no Content-Type: the body mediaType decides', async () => {
    const repo = uniqueRepo('man');
    const body = json(await dockerImage(repo));
    expectPut(await c.putManifest(repo, 'noct', body, null), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/noct`), body, DOCKER_MANIFEST);
  });

  it('Content-Type parameters are ignored (v1.1: registries SHOULD ignore them)', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    expectPut(await c.putManifest(repo, 'param', body, `${OCI_MANIFEST}; charset=utf-8`), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/param`), body, OCI_MANIFEST);
  });

  it('Content-Type decides when the body has no mediaType', async () => {
    const repo = uniqueRepo('man');
    const m = await c.imageManifest(repo);
    delete m.mediaType;
    const body = json(m);
    expectPut(await c.putManifest(repo, 'nomt', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/nomt`), body, OCI_MANIFEST);
  });
});

describe('byte-exact storage', () => {
  it('odd whitespace, key order, unicode and a trailing newline come back identical', async () => {
    const repo = uniqueRepo('exact');
    const m = await c.imageManifest(repo);
    const config = m.config as { mediaType: string; digest: string; size: number };
    const layer = (m.layers as { mediaType: string; digest: string; size: number }[])[0]!;
    const text =
      `{\n\t"layers" : [ {"size":${layer.size},  "digest":"${layer.digest}","mediaType":"${layer.mediaType}"} ],\r\n` +
      `   "annotations": {"z":"\\u00e9t\u00e9 \u2603","a":"1"},\n` +
      `"config":{"digest":"${config.digest}","size":${config.size},"mediaType":"${config.mediaType}"},` +
      `  "mediaType":"${OCI_MANIFEST}",    "schemaVersion":2 }\n`;
    const body = utf8(text);
    const digest = expectPut(await c.putManifest(repo, 'odd', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/odd`), body, OCI_MANIFEST);
    expectManifest(await c.get(`/v2/${repo}/manifests/${digest}`), body, OCI_MANIFEST);
  });
});

describe('PUT validation', () => {
  it('Content-Type differing from the body mediaType -> 400 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const body = json(await c.imageManifest(repo));
    expectError(await c.putManifest(repo, 't', body, DOCKER_MANIFEST), 400, 'MANIFEST_INVALID');
    expectError(await c.get(`/v2/${repo}/manifests/t`), 404, 'MANIFEST_UNKNOWN');
  });

  it('unsupported media types (Docker schema 1, arbitrary) -> 400 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const m = await c.imageManifest(repo);
    const v1 = { schemaVersion: 1, name: repo, tag: 't', architecture: 'amd64', fsLayers: [], history: [] };
    expectError(await c.putManifest(repo, 't', v1, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 400, 'MANIFEST_INVALID');
    expectError(await c.putManifest(repo, 't', v1, 'application/vnd.docker.distribution.manifest.v1+json'), 400, 'MANIFEST_INVALID');
    const { mediaType: _drop, ...noMt } = m;
    expectError(await c.putManifest(repo, 't', noMt, 'application/json'), 400, 'MANIFEST_INVALID');
    expectError(await c.putManifest(repo, 't', noMt, 'text/plain'), 400, 'MANIFEST_INVALID');
  });

  it('neither Content-Type nor body mediaType -> 400 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const { mediaType: _drop, ...m } = await c.imageManifest(repo);
    expectError(await c.putManifest(repo, 't', json(m), null), 400, 'MANIFEST_INVALID');
  });

  it('invalid JSON, wrong structure, schemaVersion != 2 -> 400 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const m = await c.imageManifest(repo);
    const bad: [string, unknown, string][] = [
      ['not JSON', '{"schemaVersion":2,', OCI_MANIFEST],
      ['empty body', '', OCI_MANIFEST],
      ['JSON array', '[]', OCI_MANIFEST],
      ['schemaVersion 1', { ...m, schemaVersion: 1 }, OCI_MANIFEST],
      ['schemaVersion missing', { ...m, schemaVersion: undefined }, OCI_MANIFEST],
      ['no config', { ...m, config: undefined }, OCI_MANIFEST],
      ['layers not an array', { ...m, layers: {} }, OCI_MANIFEST],
      ['descriptor without digest', { ...m, layers: [{ mediaType: OCI_LAYER_GZIP, size: 3 }] }, OCI_MANIFEST],
      ['descriptor with a bad digest', { ...m, layers: [{ mediaType: OCI_LAYER_GZIP, size: 3, digest: 'sha256:xyz' }] }, OCI_MANIFEST],
      ['descriptor with a negative size', { ...m, layers: [{ mediaType: OCI_LAYER_GZIP, size: -1, digest: randomDigest() }] }, OCI_MANIFEST],
      ['index without manifests', { schemaVersion: 2, mediaType: OCI_INDEX }, OCI_INDEX],
      ['index whose manifests is not an array', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'x' }, OCI_INDEX],
    ];
    const failures: string[] = [];
    for (const [what, body, mt] of bad) {
      const r = await c.putManifest(repo, 'bad', body, mt);
      try {
        expectError(r, 400, 'MANIFEST_INVALID');
      } catch (e) {
        failures.push(`${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
    assert.deepEqual(failures, [], failures.join('\n'));
    expectError(await c.get(`/v2/${repo}/manifests/bad`), 404, 'MANIFEST_UNKNOWN');
  });

  it('config or layer not pushed to this repo -> 404 MANIFEST_BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('inv');
    const other = uniqueRepo('inv');
    const m = await c.imageManifest(repo);
    const missingLayer = { ...m, layers: [...(m.layers as object[]), { mediaType: OCI_LAYER_GZIP, digest: randomDigest(), size: 10 }] };
    expectError(await c.putManifest(repo, 't', missingLayer, OCI_MANIFEST), 404, 'MANIFEST_BLOB_UNKNOWN');
    const missingConfig = { ...m, config: { mediaType: OCI_CONFIG, digest: randomDigest(), size: 10 } };
    expectError(await c.putManifest(repo, 't', missingConfig, OCI_MANIFEST), 404, 'MANIFEST_BLOB_UNKNOWN');
    // The blobs exist in `repo` only; `other` cannot reference them.
    expectError(await c.putManifest(other, 't', m, OCI_MANIFEST), 404, 'MANIFEST_BLOB_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/t`), 404, 'MANIFEST_UNKNOWN');
  });

  it('descriptor size differing from the blob size -> 400 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const m = await c.imageManifest(repo);
    const layer = (m.layers as { size: number }[])[0]!;
    expectError(await c.putManifest(repo, 't', { ...m, layers: [{ ...layer, size: layer.size + 1 }] }, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
    const config = m.config as { size: number };
    expectError(await c.putManifest(repo, 't', { ...m, config: { ...config, size: config.size - 1 } }, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
  });

  it('index child not in the repo -> 404 MANIFEST_BLOB_UNKNOWN', async () => {
    const repo = uniqueRepo('inv');
    const other = uniqueRepo('inv');
    const { digest, size } = await c.pushImage(other, 'x');
    await c.pushImage(repo, 'y');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest, size }] };
    expectError(await c.putManifest(repo, 'idx', index, OCI_INDEX), 404, 'MANIFEST_BLOB_UNKNOWN');
    const ghost = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: randomDigest(), size: 100 }] };
    expectError(await c.putManifest(repo, 'idx', ghost, OCI_INDEX), 404, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('PUT by digest whose body hashes differently -> 400 DIGEST_INVALID', async () => {
    const repo = uniqueRepo('inv');
    const body = json(await c.imageManifest(repo));
    const wrong = randomDigest();
    expectError(await c.putManifest(repo, wrong, body, OCI_MANIFEST), 400, 'DIGEST_INVALID');
    expectError(await c.get(`/v2/${repo}/manifests/${wrong}`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/${sha256(body)}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('PUT by the right digest -> 201, and it creates no tag', async () => {
    const repo = uniqueRepo('inv');
    await c.pushImage(repo, 'only');
    const body = json(await c.imageManifest(repo));
    expectPut(await c.putManifest(repo, sha256(body), body, OCI_MANIFEST), repo, body);
    const tags = await c.get(`/v2/${repo}/tags/list`);
    expectStatus(tags, 200);
    assert.deepEqual((JSON.parse(tags.text) as { tags: string[] }).tags, ['only']);
  });

  it('re-PUT of identical bytes is idempotent', async () => {
    const repo = uniqueRepo('inv');
    const body = json(await c.imageManifest(repo));
    expectPut(await c.putManifest(repo, 'a', body, OCI_MANIFEST), repo, body);
    expectPut(await c.putManifest(repo, 'a', body, OCI_MANIFEST), repo, body);
    expectPut(await c.putManifest(repo, sha256(body), body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/a`), body, OCI_MANIFEST);
  });
});

describe('4 MiB limit', () => {
  it('exactly 4 MiB is accepted and returned intact', async () => {
    const repo = uniqueRepo('big');
    const body = paddedManifest(await c.imageManifest(repo), MAX_MANIFEST);
    expectPut(await c.putManifest(repo, 'big', body, OCI_MANIFEST), repo, body);
    expectManifest(await c.get(`/v2/${repo}/manifests/big`), body, OCI_MANIFEST);
  });

  it('4 MiB + 1 byte -> 413 MANIFEST_INVALID', async () => {
    const repo = uniqueRepo('big');
    const body = paddedManifest(await c.imageManifest(repo), MAX_MANIFEST + 1);
    expectError(await c.putManifest(repo, 'big', body, OCI_MANIFEST), 413, 'MANIFEST_INVALID');
    expectError(await c.get(`/v2/${repo}/manifests/big`), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('PUT by digest with tag parameters', () => {
  it('tags the manifest with every `tag` parameter in the same request, and answers OCI-Tag', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    const digest = sha256(body);
    const r = await c.req('PUT', `/v2/${repo}/manifests/${digest}?tag=v1&tag=latest&tag=v1`, { headers: { 'content-type': OCI_MANIFEST }, body });
    expectStatus(r, 201);
    assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    assert.equal(r.headers.get('oci-tag'), 'v1, latest', r.where);
    for (const tag of ['v1', 'latest']) assert.equal((await c.head(`/v2/${repo}/manifests/${tag}`)).headers.get('docker-content-digest'), digest);
    const tags = JSON.parse((await c.get(`/v2/${repo}/tags/list`)).text) as { tags: string[] };
    assert.deepEqual(tags.tags, ['latest', 'v1']);
  });

  it('one invalid tag refuses the whole request: no tag and no manifest is stored', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    const digest = sha256(body);
    const r = await c.req('PUT', `/v2/${repo}/manifests/${digest}?tag=good&tag=-bad`, { headers: { 'content-type': OCI_MANIFEST }, body });
    expectError(r, 400, 'TAG_INVALID');
    expectError(await c.get(`/v2/${repo}/manifests/good`), 404, 'MANIFEST_UNKNOWN');
    expectError(await c.get(`/v2/${repo}/manifests/${digest}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('more than 10 tags in one request is refused', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    const query = Array.from({ length: 11 }, (_, i) => `tag=t${i}`).join('&');
    expectError(await c.req('PUT', `/v2/${repo}/manifests/${sha256(body)}?${query}`, { headers: { 'content-type': OCI_MANIFEST }, body }), 400, 'MANIFEST_INVALID');
  });

  it('tag parameters on a PUT by tag are ignored: only the reference is tagged', async () => {
    const repo = uniqueRepo('man');
    const body = json(await c.imageManifest(repo));
    expectStatus(await c.req('PUT', `/v2/${repo}/manifests/v9?tag=other`, { headers: { 'content-type': OCI_MANIFEST }, body }), 201);
    expectError(await c.get(`/v2/${repo}/manifests/other`), 404, 'MANIFEST_UNKNOWN');
  });
});
