// Helpers shared by the manifest API tests (manifests-*.test.ts): assertions for a successful
// manifest PUT and for a stored manifest read back with GET or HEAD, and a fresh Docker schema 2
// image. Each test file passes a getter for the Client of its own registry.
import assert from 'node:assert/strict';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, bytes, expectStatus, json, locationPath, sha256, type Client, type Reply } from './client.ts';

export interface ManifestHelpers {
  /** Asserts a successful manifest PUT reply; returns the digest. */
  expectPut(r: Reply, repo: string, body: Uint8Array): string;
  /** Asserts a GET (or HEAD) of a stored manifest: exact bytes and headers. */
  expectManifest(r: Reply, body: Uint8Array, mediaType: string, head?: boolean): void;
  /** Uploads a fresh config and layer to `repo` and returns a Docker schema 2 manifest (not pushed). */
  dockerImage(repo: string): Promise<Record<string, unknown>>;
}

/** The manifest helpers for the Client that `client()` returns when they are called. */
export function manifestHelpers(client: () => Client): ManifestHelpers {
  return {
    expectPut(r, repo, body) {
      const digest = sha256(body);
      expectStatus(r, 201);
      assert.equal(locationPath(client(), r), `/v2/${repo}/manifests/${digest}`, `Location: ${r.where}`);
      assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
      assert.equal(r.headers.get('content-length'), '0', r.where);
      return digest;
    },

    expectManifest(r, body, mediaType, head = false) {
      const digest = sha256(body);
      expectStatus(r, 200);
      assert.equal(r.headers.get('content-type'), mediaType, `Content-Type: ${r.where}`);
      assert.equal(r.headers.get('content-length'), String(body.length), `Content-Length: ${r.where}`);
      assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
      assert.equal(r.headers.get('etag'), `"${digest}"`, `ETag: ${r.where}`);
      if (head) assert.equal(r.body.length, 0, 'HEAD with a body');
      else assert.ok(r.body.equals(Buffer.from(body)), `bytes differ: ${r.where}`);
    },

    async dockerImage(repo) {
      const c = client();
      const config = await c.blob(repo, json({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, r: bytes(4).toString('hex') }), DOCKER_CONFIG);
      const layer = await c.blob(repo, bytes(256), DOCKER_LAYER);
      return { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer] };
    },
  };
}
