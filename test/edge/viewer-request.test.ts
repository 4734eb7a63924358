// The viewer-request function on CloudFront event objects: which requests take the S3 fast path (and
// exactly what S3 receives), which are routed to ingest or the API, and which are refused at the edge.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadEdgeFunction, uploadKeysStore } from '../../dev/cloudfront/harness.ts';
import { uploadKeyName } from '../../functions/edge/source.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { defaultSettings } from '../../functions/core/context.ts';
import { sessionHeaders } from '../../functions/core/upload-session.ts';
import type { UploadSession } from '../../functions/core/ports.ts';
import { MAX_API_BODY_BYTES } from '../../dev/front-door/route-upload.ts';
import { CONFIG, edgeSetup, event, expectRefusal, expectRouted, expectS3, MAX_PUT, nowSeconds, put, session, sha256Hex } from './fixtures.ts';

const HELLO = sha256Hex('hello world');
const LAYER = 50 * 1024 * 1024;

describe('viewer request: the S3 fast path', () => {
  const edge = edgeSetup();

  it('a monolithic PUT with a valid token goes to S3 as blobs/r/<repo>/sha256/<hex> with the digest as x-amz-checksum-sha256', async () => {
    const s = session(edge.signer);
    const r = await edge.request.run(put(s.location, `sha256:${HELLO}`, 11));
    expectS3(r, s.repo, HELLO);
    // The exact header real S3 verifies: base64 of the 32 raw digest bytes of "hello world".
    if (r.kind === 'request') expect(r.request.headers['x-amz-checksum-sha256']!.value).toBe('uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=');
  });

  it('sends S3 only Content-Length, Host, User-Agent, Content-Type octet-stream, the checksum and the session id: no credentials, x-amz-*, conditions or encodings', async () => {
    const s = session(edge.signer);
    const r = await edge.request.run(
      put(s.location, `sha256:${HELLO}`, 11, {
        authorization: 'Bearer abc',
        'x-amz-acl': 'public-read',
        'x-amz-meta-upload': '00000000-0000-0000-0000-000000000000',
        'x-amz-checksum-sha256': 'AAAA',
        'x-amz-checksum-crc32': 'AAAA',
        'content-encoding': 'gzip',
        'content-type': 'text/html',
        'if-none-match': '*',
        cookie: 'a=b',
      }),
    );
    expectS3(r, s.repo, HELLO);
    if (r.kind !== 'request') return;
    expect(r.request.headers).toEqual({
      host: { value: 'registry.example.com' },
      'user-agent': { value: 'containerd/2.3.0' },
      'content-length': { value: '11' },
      'content-type': { value: 'application/octet-stream' },
      'x-amz-checksum-sha256': { value: 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=' },
      // The session whose token was checked (a viewer's own x-amz-meta-upload is replaced).
      'x-amz-meta-upload': { value: s.id },
    });
    expect(r.request.cookies).toEqual({});
    expect(r.request.method).toBe('PUT');
  });

  it("takes containerd 2.3's extra ns= parameter and parameters in any order", async () => {
    const s = session(edge.signer);
    const path = `/v2/${s.repo}/blobs/uploads/${s.id}`;
    for (const query of [
      `_state=${s.token}&digest=sha256%3A${HELLO}&ns=docker.io`,
      `ns=docker.io&digest=sha256:${HELLO}&_state=${s.token}`,
      `digest=sha256%3a${HELLO}&_state=${s.token}`,
    ]) {
      expectS3(await edge.request.run(event('PUT', `${path}?${query}`, { 'content-length': '11' })), s.repo, HELLO);
    }
  });

  it('reads the path percent-decoded, as the API does', async () => {
    const s = session(edge.signer);
    expectS3(await edge.request.run(put(s.location.replace('team/app', 'team%2Fapp'), `sha256:${HELLO}`, 11)), s.repo, HELLO);
  });

  it('takes 1 byte and exactly 5 GiB', async () => {
    const s = session(edge.signer);
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, 1)), s.repo, HELLO);
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, MAX_PUT)), s.repo, HELLO);
  });

  it('verifies a token signed with an older key still listed, and one from the Location the core builds', async () => {
    const s = session(new TokenSigner([edge.keys[1]!]));
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER)), s.repo, HELLO);
  });
});

describe('viewer request: tokens', () => {
  const edge = edgeSetup();

  it('a forged token (MAC of another key under the same key id) is refused: 400 BLOB_UPLOAD_INVALID', async () => {
    const forger = new TokenSigner([{ id: 'k1', secret: Buffer.alloc(32, 7) }]);
    const s = session(forger);
    const detail = expectRefusal(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER)), 400, 'BLOB_UPLOAD_INVALID');
    expect(detail.reason).toMatch(/not authentic/);
  });

  it('a token with one character of its MAC changed, or garbage, is refused', async () => {
    const s = session(edge.signer);
    const flipped = s.token.slice(0, -1) + (s.token.endsWith('A') ? 'B' : 'A');
    const path = `/v2/${s.repo}/blobs/uploads/${s.id}`;
    for (const token of [flipped, 'garbage', `${s.token}x`, '']) {
      expectRefusal(await edge.request.run(put(`${path}?_state=${token}`, `sha256:${HELLO}`, LAYER)), 400, 'BLOB_UPLOAD_INVALID');
    }
  });

  it('a token whose expiry was changed without re-signing is refused', async () => {
    const s = session(edge.signer, 'team/app', randomUUID(), nowSeconds() - 10);
    const [kid, payload, , mac] = s.token.split('.');
    const extended = `${kid}.${payload}.${nowSeconds() + 86_400}.${mac}`;
    const path = `/v2/${s.repo}/blobs/uploads/${s.id}`;
    expectRefusal(await edge.request.run(put(`${path}?_state=${extended}`, `sha256:${HELLO}`, LAYER)), 400, 'BLOB_UPLOAD_INVALID');
  });

  it('an expired token is 404 BLOB_UPLOAD_UNKNOWN (the session is gone), honoured to the second', async () => {
    const exp = nowSeconds() + 60;
    const s = session(edge.signer, 'team/app', randomUUID(), exp);
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER), { now: exp * 1000 }), s.repo, HELLO);
    const detail = expectRefusal(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER), { now: exp * 1000 + 1000 }), 404, 'BLOB_UPLOAD_UNKNOWN');
    expect(detail.reason).toMatch(/expired/);
  });

  it('an authentic token for another repository or another session is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const a = session(edge.signer, 'tenant-a/app');
    const b = session(edge.signer, 'tenant-b/app');
    // A's token replayed on B's repository (same session id), and on another session of A.
    expectRefusal(await edge.request.run(put(`/v2/${b.repo}/blobs/uploads/${a.id}?_state=${a.token}`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectRefusal(await edge.request.run(put(`/v2/${a.repo}/blobs/uploads/${b.id}?_state=${a.token}`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
    // A repository whose name only extends A's.
    expectRefusal(await edge.request.run(put(`/v2/${a.repo}/x/blobs/uploads/${a.id}?_state=${a.token}`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a token that binds no owner (repo|id, as before uploads were bound to their pusher) is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const s = session(edge.signer);
    const ownerless = edge.signer.sign(`${s.repo}|${s.id}`, nowSeconds() + 600);
    expectRefusal(await edge.request.run(put(`/v2/${s.repo}/blobs/uploads/${s.id}?_state=${ownerless}`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a PUT without _state, or on a session id that is no UUID, is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const s = session(edge.signer);
    const detail = expectRefusal(await edge.request.run(put(`/v2/${s.repo}/blobs/uploads/${s.id}?ns=docker.io`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
    expect(detail.reason).toMatch(/_state/);
    expectRefusal(await edge.request.run(put(`/v2/${s.repo}/blobs/uploads/not-a-uuid?_state=${s.token}`, `sha256:${HELLO}`, LAYER)), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('uploadKeysStore publishes the keys a TokenSigner signs with, string or byte secrets', async () => {
    const keys = [{ id: 'a1', secret: 'a string secret of some length' }, { id: 'b2', secret: Buffer.alloc(32, 3) }];
    const fn = loadEdgeFunction('viewer-request', { config: CONFIG, kvs: uploadKeysStore(keys) });
    for (const key of keys) {
      const s = session(new TokenSigner([key]));
      expectS3(await fn.run(put(s.location, `sha256:${HELLO}`, LAYER)), s.repo, HELLO);
    }
  });

  it('a token whose key id is not in the KeyValueStore is left to the API/ingest (which hold every key), never sent to S3', async () => {
    const s = session(new TokenSigner([{ id: 'k9', secret: Buffer.alloc(32, 9) }]));
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER)), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, 1000)), CONFIG.apiOrigin);
    // Once the key is published, the same token takes the fast path.
    edge.kvs.set(uploadKeyName('k9'), Buffer.alloc(32, 9).toString('base64'));
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER)), s.repo, HELLO);
  });
});

describe('viewer request: not a fast-path request, routed by routeUpload', () => {
  const edge = edgeSetup();
  const s = session(edge.signer);

  it('a missing, malformed or sha512 digest: ingest for a large body, the API for a small one', async () => {
    const sha512 = `sha512:${'ab'.repeat(64)}`;
    for (const digest of [sha512, 'sha256:XYZ', `sha256:${HELLO.toUpperCase()}`, `sha256:${HELLO.slice(1)}`, `md5:${HELLO}`, HELLO, '']) {
      expectRouted(await edge.request.run(put(s.location, digest, LAYER)), CONFIG.ingestOrigin);
      expectRouted(await edge.request.run(put(s.location, digest, 100)), CONFIG.apiOrigin);
    }
    expectRouted(await edge.request.run(event('PUT', s.location, { 'content-length': String(LAYER) })), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(event('PUT', `${s.location}&digest=sha256:${HELLO}&digest=sha256:${HELLO}`, { 'content-length': '100' })), CONFIG.apiOrigin);
  });

  it('Content-Length 0 (the closing PUT of a chunked upload) goes to the API', async () => {
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, 0)), CONFIG.apiOrigin);
  });

  it('a missing Content-Length or a chunked body goes to ingest', async () => {
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, undefined)), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, undefined, { 'transfer-encoding': 'chunked' })), CONFIG.ingestOrigin);
  });

  it('over 5 GiB goes to ingest (S3 takes at most 5 GiB in one PUT); a malformed length to the API', async () => {
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, MAX_PUT + 1)), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, undefined, { 'content-length': '12x' })), CONFIG.apiOrigin);
  });

  it('a closing PUT carrying the last chunk (Content-Range, or a Location marked _partial) is not sent to S3', async () => {
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, 100, { 'content-range': '1000-1099' })), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(put(`${s.location}&_partial=1`, `sha256:${HELLO}`, LAYER)), CONFIG.ingestOrigin);
  });

  it('HEAD, GET and DELETE on upload paths go to the API untouched but for the distribution host name (the token realm without a domain), over any the viewer sent', async () => {
    for (const method of ['HEAD', 'GET', 'DELETE']) {
      const e = event(method, s.location, { 'x-registry-host': 'evil.example.com' });
      const r = await edge.request.run(e);
      expectRouted(r, CONFIG.apiOrigin);
      const expected = structuredClone(e.request);
      expected.headers['x-registry-host'] = { value: e.context.distributionDomainName };
      if (r.kind === 'request') expect(r.request).toEqual(expected);
    }
  });

  it('PATCH by size and streaming, POST and other paths', async () => {
    expectRouted(await edge.request.run(event('PATCH', s.location, { 'transfer-encoding': 'chunked' })), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(event('PATCH', s.location, { 'content-length': String(MAX_API_BODY_BYTES + 1) })), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(event('PATCH', s.location, { 'content-length': '5000', 'content-range': '0-4999' })), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(event('POST', `/v2/${s.repo}/blobs/uploads/`)), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(event('POST', `/v2/${s.repo}/blobs/uploads/?digest=sha256:${HELLO}`, { 'content-length': String(LAYER) })), CONFIG.ingestOrigin);
    expectRouted(await edge.request.run(event('PUT', `/v2/${s.repo}/manifests/v1`, { 'content-length': '500' })), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(event('GET', `/v2/${s.repo}/blobs/sha256:${HELLO}`)), CONFIG.apiOrigin);
  });
});

describe('viewer request with ingest off', () => {
  const edge = edgeSetup({ ...CONFIG, ingest: false });
  const s = session(edge.signer);

  it('a whole layer in a PATCH gets 413 SIZE_INVALID saying how to upload, instead of a hang', async () => {
    const cases: Record<string, string>[] = [{ 'transfer-encoding': 'chunked' }, { 'content-length': String(LAYER) }, {}];
    for (const headers of cases) {
      const detail = expectRefusal(await edge.request.run(event('PATCH', s.location, headers)), 413, 'SIZE_INVALID');
      expect(detail.reason).toMatch(/one PUT with Content-Length/);
      expect(detail.maxChunkBytes).toBe(MAX_API_BODY_BYTES);
    }
  });

  it('monolithic PUTs still go to S3, small bodies to the API, and what only ingest could take is refused', async () => {
    expectS3(await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER)), s.repo, HELLO);
    expectRouted(await edge.request.run(event('PATCH', s.location, { 'content-length': '5000' })), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, 0)), CONFIG.apiOrigin);
    expectRefusal(await edge.request.run(put(s.location, `sha256:${HELLO}`, MAX_PUT + 1)), 413, 'SIZE_INVALID');
    expectRefusal(await edge.request.run(put(s.location, `sha512:${'ab'.repeat(64)}`, LAYER)), 413, 'SIZE_INVALID');
  });

  it('a fast-path PUT whose token key the edge does not know yet gets 503 with Retry-After (ingest cannot take it)', async () => {
    const t = session(new TokenSigner([{ id: 'k9', secret: Buffer.alloc(32, 9) }]));
    const r = await edge.request.run(put(t.location, `sha256:${HELLO}`, LAYER));
    expectRefusal(r, 503, 'UNAVAILABLE');
    if (r.kind === 'response') expect(r.response.headers['retry-after']).toEqual({ value: '10' });
    expectRouted(await edge.request.run(put(t.location, `sha256:${HELLO}`, 1000)), CONFIG.apiOrigin);
  });

  it('the deployed default (no settings written) routes to ingest: the setting is read, not assumed', async () => {
    const plain = loadEdgeFunction('viewer-request', { kvs: edge.kvs });
    const r = await plain.run(event('PATCH', s.location, { 'transfer-encoding': 'chunked' }));
    expect(r.kind).toBe('request');
    expect(r.origin).toEqual({ kind: 'id', id: 'ingest' });
  });
});

describe('viewer request with edgeUploads off (the deployment switch)', () => {
  for (const ingest of [true, false]) {
    const edge = edgeSetup({ ...CONFIG, ingest, edgeUploads: false });
    const s = session(edge.signer);
    it(`ingest ${ingest ? 'on' : 'off'}: a monolithic PUT never goes to S3; routed by size like a PATCH`, async () => {
      expectRouted(await edge.request.run(put(s.location, `sha256:${HELLO}`, 1000)), CONFIG.apiOrigin);
      const big = await edge.request.run(put(s.location, `sha256:${HELLO}`, LAYER));
      if (ingest) expectRouted(big, CONFIG.ingestOrigin);
      else expectRefusal(big, 413, 'SIZE_INVALID');
    });
  }
});

describe('viewer request: an invalid repository name is the API\'s to refuse (NAME_INVALID, as on every route)', () => {
  for (const ingest of [true, false]) {
    const edge = edgeSetup({ ...CONFIG, ingest });
    // A valid token for a valid repository, replayed on a path naming an invalid one.
    const s = session(edge.signer);
    it(`ingest ${ingest ? 'on' : 'off'}: no fast path, no token check, no size refusal: routed to the API`, async () => {
      for (const name of ['Upper', 'a..b', '-lead', 'trail_', 'a:b', 'a'.repeat(256), `${'abcdefghi/'.repeat(25)}abcdef`]) {
        const location = s.location.replace(`/v2/${s.repo}/`, `/v2/${name}/`);
        expectRouted(await edge.request.run(put(location, `sha256:${HELLO}`, 11)), CONFIG.apiOrigin);
        expectRouted(await edge.request.run(put(location, `sha256:${HELLO}`, LAYER)), CONFIG.apiOrigin);
        expectRouted(await edge.request.run(event('PATCH', location, { 'transfer-encoding': 'chunked' })), CONFIG.apiOrigin);
        expectRouted(await edge.request.run(event('POST', `/v2/${name}/blobs/uploads/`, { 'transfer-encoding': 'chunked' })), CONFIG.apiOrigin);
        // Without the trailing slash too (the name is everything before /blobs/uploads).
        expectRouted(await edge.request.run(event('POST', `/v2/${name}/blobs/uploads`, { 'transfer-encoding': 'chunked' })), CONFIG.apiOrigin);
      }
      // Borderline valid names still take the fast path with their own token.
      for (const name of ['a__b', 'a---b', 'x/y/z', 'b'.repeat(255)]) {
        const v = session(edge.signer, name);
        expectS3(await edge.request.run(put(v.location, `sha256:${HELLO}`, 11)), name, HELLO);
      }
    });
  }
});

describe("viewer request with the core's own Locations", () => {
  const edge = edgeSetup();
  const deps = { uploadTokens: edge.signer, settings: defaultSettings, now: Date.now };
  const at = (offset: number): UploadSession => ({ id: randomUUID(), repo: 'team/app', offset, state: '', createdAt: 0, updatedAt: 0, expiresAt: Date.now() + 3600_000 });

  it("a new session's Location (POST) takes the fast path: a TokenSigner token verifies at the edge", async () => {
    const session = at(0);
    expectS3(await edge.request.run(put(sessionHeaders(deps, session, { subject: "ci" }).location!, `sha256:${HELLO}`, LAYER)), session.repo, HELLO);
  });

  it('once the session holds bytes, its Location keeps a closing PUT with the last chunk off S3', async () => {
    const session = at(5000);
    const location = sessionHeaders(deps, session, { subject: "ci" }).location!;
    expect(location).toMatch(/&_partial=1$/);
    expectRouted(await edge.request.run(put(location, `sha256:${HELLO}`, 100)), CONFIG.apiOrigin);
    expectRouted(await edge.request.run(put(location, `sha256:${HELLO}`, LAYER)), CONFIG.ingestOrigin);
  });
});
