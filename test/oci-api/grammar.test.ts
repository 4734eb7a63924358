// Name, tag and digest grammar on every route family: 400 NAME_INVALID / TAG_INVALID /
// DIGEST_INVALID, and the borderline values that must be accepted.
import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import {
  Client,
  OCI_MANIFEST,
  bytes,
  expectError,
  expectHeadError,
  expectStatus,
  json,
  randomDigest,
  sha256,
  sha512,
  uniqueRepo,
  withQuery,
  type Reply,
} from './client.ts';

let registry: RunningRegistry;
let c: Client;
/** A repository with a pushed image, an open upload session and a blob. */
let repo: string;
let manifestBody: Buffer;
let blobDigest: string;

beforeAll(async () => {
  registry = await startRegistry();
  c = new Client(registry.url);
  repo = uniqueRepo('grammar');
  manifestBody = json(await c.imageManifest(repo));
  const r = await c.putManifest(repo, 'v1', manifestBody, OCI_MANIFEST);
  expectStatus(r, 201);
  blobDigest = await c.uploadBlob(repo, bytes(16));
});
afterAll(async () => {
  await registry?.stop();
});

const hex64 = 'a'.repeat(40) + '0123456789abcdef01234567';
const hex128 = hex64 + hex64;

describe('repository names', () => {
  const invalid = [
    'Upper',
    'up/Per',
    'a..b',
    '-lead',
    '_lead',
    '.lead',
    'trail-',
    'trail_',
    'a___b',
    'a.-b',
    'a_-b',
    'a:b',
    'a+b',
    'a'.repeat(256),
    `${'abcdefghi/'.repeat(25)}abcdef`, // 256 characters in components
  ];
  assert.equal(invalid[invalid.length - 1]?.length, 256);

  /** Every route family, with `name` in the repository position and everything else valid. */
  async function everyRoute(name: string): Promise<{ label: string; r: Reply; head: boolean }[]> {
    const out: { label: string; r: Reply; head: boolean }[] = [];
    const add = async (label: string, p: Promise<Reply>, head = false): Promise<void> => {
      out.push({ label, r: await p, head });
    };
    const session = await c.startUpload(repo);
    const loc = session.location.replace(`/v2/${repo}/`, `/v2/${name}/`);
    assert.notEqual(loc, session.location);
    const data = bytes(8);
    await add('GET tags/list', c.get(`/v2/${name}/tags/list`));
    await add('GET manifest', c.get(`/v2/${name}/manifests/v1`));
    await add('HEAD manifest', c.head(`/v2/${name}/manifests/v1`), true);
    await add('PUT manifest', c.putManifest(name, 'v1', manifestBody, OCI_MANIFEST));
    await add('DELETE manifest', c.delete(`/v2/${name}/manifests/v1`));
    await add('GET blob', c.get(`/v2/${name}/blobs/${blobDigest}`));
    await add('HEAD blob', c.head(`/v2/${name}/blobs/${blobDigest}`), true);
    await add('DELETE blob', c.delete(`/v2/${name}/blobs/${blobDigest}`));
    await add('POST upload', c.req('POST', `/v2/${name}/blobs/uploads/`));
    await add('POST monolithic', c.req('POST', withQuery(`/v2/${name}/blobs/uploads/`, 'digest', sha256(data)), { body: data }));
    await add('POST mount', c.req('POST', `/v2/${name}/blobs/uploads/?mount=${encodeURIComponent(blobDigest)}&from=${encodeURIComponent(repo)}`));
    await add('GET upload', c.get(loc));
    await add('PATCH upload', c.req('PATCH', loc, { body: data }));
    await add('PUT upload', c.req('PUT', withQuery(loc, 'digest', sha256(data)), { body: data }));
    await add('DELETE upload', c.delete(loc));
    await add('GET referrers', c.get(`/v2/${name}/referrers/${blobDigest}`));
    return out;
  }

  for (const name of invalid) {
    it(`${name.length > 40 ? `${name.slice(0, 20)}... (${name.length} chars)` : name} -> 400 NAME_INVALID on every route`, async () => {
      for (const { label, r, head } of await everyRoute(name)) {
        assert.equal(r.status, 400, `${label}: ${r.where}`);
        if (head) expectHeadError(r, 400);
        else expectError(r, 400, 'NAME_INVALID');
      }
      // Nothing was created under the valid repo by those requests.
      expectStatus(await c.head(`/v2/${repo}/manifests/v1`), 200);
      expectStatus(await c.head(`/v2/${repo}/blobs/${blobDigest}`), 200);
    });
  }

  it('borderline valid names are accepted (255 chars, __, runs of -, several components)', async () => {
    const names = ['a__b', 'a--b', 'a---b', 'a.b_c-d', 'x/y/z', '0', `${'abcdefghi/'.repeat(25)}abcde`, 'b'.repeat(255)];
    for (const name of names) {
      expectError(await c.get(`/v2/${name}/tags/list`), 404, 'NAME_UNKNOWN');
      const data = bytes(12);
      const digest = await c.uploadBlob(name, data);
      const head = await c.head(`/v2/${name}/blobs/${digest}`);
      expectStatus(head, 200);
      const m = json(await c.imageManifest(name));
      expectStatus(await c.putManifest(name, 'v1', m, OCI_MANIFEST), 201);
      expectStatus(await c.get(`/v2/${name}/manifests/v1`), 200);
      const tags = await c.get(`/v2/${name}/tags/list`);
      expectStatus(tags, 200);
      assert.equal((JSON.parse(tags.text) as { name: string }).name, name);
    }
  });
});

describe('tags', () => {
  const invalid = ['-lead', '.lead', 'a'.repeat(129), 'a+b', 'a!b', 'caf%C3%A9', 'a%20b'];

  for (const tag of invalid) {
    it(`${tag.length > 40 ? `${tag.length} chars` : tag} -> 404 MANIFEST_UNKNOWN on GET/HEAD (a manifest that cannot exist is not found), 400 TAG_INVALID on PUT/DELETE`, async () => {
      expectError(await c.get(`/v2/${repo}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN');
      expectHeadError(await c.head(`/v2/${repo}/manifests/${tag}`), 404);
      expectError(await c.putManifest(repo, tag, manifestBody, OCI_MANIFEST), 400, 'TAG_INVALID');
      expectError(await c.delete(`/v2/${repo}/manifests/${tag}`), 400, 'TAG_INVALID');
    });
  }

  it('borderline valid tags: 128 chars, leading _, upper case, dots and dashes', async () => {
    for (const tag of ['a'.repeat(128), '_lead', 'A', '9', 'v1.0-RC_1', 'a..b', 'a--b']) {
      expectError(await c.get(`/v2/${repo}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN');
      expectStatus(await c.putManifest(repo, tag, manifestBody, OCI_MANIFEST), 201);
      expectStatus(await c.head(`/v2/${repo}/manifests/${tag}`), 200);
    }
  });
});

describe('digests', () => {
  const invalid = [
    'sha256:abc',
    `sha256:${hex64.toUpperCase()}`,
    `sha256:${hex64.slice(0, 63)}g`,
    `sha256:${hex64}0`,
    `sha256:${hex64.slice(1)}`,
    'sha256:',
    `:${hex64}`,
    `SHA256:${hex64}`,
    `md5:${hex64.slice(0, 32)}`,
    `blake3:${hex64}`,
    `sha512:${hex64}`,
    `sha256::${hex64}`,
  ];

  for (const d of invalid) {
    it(`${d.length > 30 ? `${d.slice(0, 16)}...(${d.length})` : d || '(empty)'} -> 400 DIGEST_INVALID on every digest position but manifest GET/HEAD (404)`, async () => {
      const enc = encodeURIComponent(d);
      // Manifest references containing ':': a GET or HEAD of what cannot exist is 404 MANIFEST_UNKNOWN.
      expectError(await c.get(`/v2/${repo}/manifests/${d}`), 404, 'MANIFEST_UNKNOWN');
      expectHeadError(await c.head(`/v2/${repo}/manifests/${d}`), 404);
      expectError(await c.putManifest(repo, d, manifestBody, OCI_MANIFEST), 400, 'DIGEST_INVALID');
      expectError(await c.delete(`/v2/${repo}/manifests/${d}`), 400, 'DIGEST_INVALID');
      // Blob routes.
      expectError(await c.get(`/v2/${repo}/blobs/${d}`), 400, 'DIGEST_INVALID');
      expectHeadError(await c.head(`/v2/${repo}/blobs/${d}`), 400);
      expectError(await c.delete(`/v2/${repo}/blobs/${d}`), 400, 'DIGEST_INVALID');
      // Referrers.
      expectError(await c.get(`/v2/${repo}/referrers/${d}`), 400, 'DIGEST_INVALID');
      // Upload digest parameters.
      const data = bytes(8);
      expectError(await c.req('POST', `/v2/${repo}/blobs/uploads/?digest=${enc}`, { body: data }), 400, 'DIGEST_INVALID');
      const { location } = await c.startUpload(repo);
      expectError(await c.req('PUT', `${location}&digest=${enc}`, { body: data }), 400, 'DIGEST_INVALID');
      // A mount is only a hint: a malformed one falls back to a plain upload session.
      expectStatus(await c.req('POST', `/v2/${repo}/blobs/uploads/?mount=${enc}&from=${encodeURIComponent(repo)}`), 202);
    });
  }

  it('blob routes: a reference that is not a digest -> 400 DIGEST_INVALID', async () => {
    for (const d of ['latest', 'v1', hex64]) {
      expectError(await c.get(`/v2/${repo}/blobs/${d}`), 400, 'DIGEST_INVALID');
      expectHeadError(await c.head(`/v2/${repo}/blobs/${d}`), 400);
      expectError(await c.delete(`/v2/${repo}/blobs/${d}`), 400, 'DIGEST_INVALID');
      expectError(await c.get(`/v2/${repo}/referrers/${d}`), 400, 'DIGEST_INVALID');
    }
  });

  it('well-formed sha256 and sha512 digests that are not stored -> 404, not 400', async () => {
    const d512 = `sha512:${hex128}`;
    for (const d of [randomDigest(), d512, sha512(bytes(3))]) {
      expectError(await c.get(`/v2/${repo}/manifests/${d}`), 404, 'MANIFEST_UNKNOWN');
      expectError(await c.get(`/v2/${repo}/blobs/${d}`), 404, 'BLOB_UNKNOWN');
      expectHeadError(await c.head(`/v2/${repo}/blobs/${d}`), 404);
      expectStatus(await c.get(`/v2/${repo}/referrers/${d}`), 200);
    }
  });
});
