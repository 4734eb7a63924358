// Helpers shared by the upload API tests (uploads-*.test.ts): PATCH and PUT on an upload session,
// the assertions for session progress and for the 201 that completes an upload, and reading a blob
// back through its 307. Each test file passes a getter for the Client of its own registry.
import assert from 'node:assert/strict';
import { expectStatus, locationPath, withQuery, type Client, type Reply } from './client.ts';

export interface UploadHelpers {
  /** Reads a blob back through its 307 and returns the bytes. */
  readBlob(repo: string, digest: string): Promise<Buffer>;
  /** Asserts the reply of a PATCH/GET on an upload session and returns the next Location. */
  expectProgress(r: Reply, status: number, repo: string, uuid: string, size: number): string;
  patch(location: string, body: Uint8Array | ReadableStream<Uint8Array>, contentRange?: string): Promise<Reply>;
  put(location: string, digest: string | undefined, body?: Uint8Array): Promise<Reply>;
  /** Asserts the 201 that completes an upload. */
  expectCreated(r: Reply, repo: string, digest: string): void;
}

/** The upload helpers for the Client that `client()` returns when they are called. */
export function uploadHelpers(client: () => Client): UploadHelpers {
  return {
    async readBlob(repo, digest) {
      const c = client();
      const r = await c.get(`/v2/${repo}/blobs/${digest}`);
      expectStatus(r, 307);
      const loc = r.headers.get('location');
      assert.ok(loc, r.where);
      const got = await c.get(loc);
      assert.equal(got.status, 200, got.where);
      return got.body;
    },

    expectProgress(r, status, repo, uuid, size) {
      expectStatus(r, status);
      if (status === 204) assert.equal(r.headers.get('content-length'), null, `a 204 carries no Content-Length (RFC 9110 §8.6): ${r.where}`);
      assert.equal(r.headers.get('range'), size === 0 ? '0-0' : `0-${size - 1}`, `Range: ${r.where}`);
      assert.equal(r.headers.get('docker-upload-uuid'), uuid, `Docker-Upload-UUID: ${r.where}`);
      const loc = locationPath(client(), r);
      assert.ok(loc.startsWith(`/v2/${repo}/blobs/uploads/`), `Location: ${r.where}`);
      return r.headers.get('location') ?? '';
    },

    patch(location, body, contentRange) {
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (contentRange !== undefined) headers['content-range'] = contentRange;
      return client().req('PATCH', location, { headers, body });
    },

    put(location, digest, body) {
      const url = digest === undefined ? location : withQuery(location, 'digest', digest);
      return client().req('PUT', url, body === undefined ? {} : { body, headers: { 'content-type': 'application/octet-stream' } });
    },

    expectCreated(r, repo, digest) {
      expectStatus(r, 201);
      assert.equal(locationPath(client(), r), `/v2/${repo}/blobs/${digest}`, `Location: ${r.where}`);
      assert.equal(r.headers.get('docker-content-digest'), digest, r.where);
    },
  };
}
