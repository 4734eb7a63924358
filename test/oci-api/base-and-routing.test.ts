// API version check (end-1), unknown routes and wrong methods.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import type { Client} from './client.ts';
import { registryPerFile, bodyJson, expectError, expectHeadError, expectStatus, randomDigest } from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

describe('GET /v2/', () => {
  for (const path of ['/v2/', '/v2']) {
    it(`GET ${path} answers 200 {} with the API version header`, async () => {
      const r = await c.get(path);
      expectStatus(r, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json\b/, r.where);
      assert.deepEqual(bodyJson(r), {});
    });
  }

  it('HEAD /v2/ answers 200 without a body', async () => {
    const r = await c.head('/v2/');
    expectStatus(r, 200);
    assert.equal(r.body.length, 0);
  });
});

describe('unknown routes', () => {
  for (const path of ['/', '/v1/', '/nothing/here', '/v2/repo/unknown-thing/x', '/v2/repo/blobs', '/v2/repo/manifests', '/v2/repo/tags', '/v2/repo/tags/other']) {
    it(`GET ${path} -> 404 UNSUPPORTED`, async () => {
      expectError(await c.get(path), 404, 'UNSUPPORTED');
    });
  }

  it('HEAD on an unknown route -> 404 without a body', async () => {
    expectHeadError(await c.head('/nothing/here'), 404);
  });

  it('a HEAD error announces the Content-Length of the body its GET carries (RFC 9110 §8.6)', async () => {
    for (const path of ['/nothing/here', '/v2/head/len/manifests/missing', `/v2/head/len/blobs/${randomDigest()}`]) {
      const get = await c.get(path);
      const head = await c.head(path);
      expectStatus(head, get.status);
      assert.ok(get.body.length > 0, get.where);
      assert.equal(head.headers.get('content-length'), String(get.body.length), head.where);
    }
  });
});

describe('known route, wrong method -> 405 UNSUPPORTED with Allow', () => {
  const digest = randomDigest();
  const cases: { method: string; path: string; allowed: string[] }[] = [
    { method: 'POST', path: '/v2/', allowed: ['GET'] },
    { method: 'DELETE', path: '/v2/', allowed: ['GET'] },
    { method: 'POST', path: '/v2/method/repo/manifests/latest', allowed: ['GET', 'HEAD', 'PUT', 'DELETE'] },
    { method: 'PATCH', path: '/v2/method/repo/manifests/latest', allowed: ['GET', 'HEAD', 'PUT', 'DELETE'] },
    { method: 'PUT', path: `/v2/method/repo/blobs/${digest}`, allowed: ['GET', 'HEAD', 'DELETE'] },
    { method: 'POST', path: `/v2/method/repo/blobs/${digest}`, allowed: ['GET', 'HEAD', 'DELETE'] },
    { method: 'GET', path: '/v2/method/repo/blobs/uploads/', allowed: ['POST'] },
    { method: 'PUT', path: '/v2/method/repo/tags/list', allowed: ['GET'] },
    { method: 'DELETE', path: '/v2/method/repo/tags/list', allowed: ['GET'] },
    { method: 'POST', path: '/v2/_catalog', allowed: ['GET'] },
    { method: 'PUT', path: `/v2/method/repo/referrers/${digest}`, allowed: ['GET'] },
    { method: 'DELETE', path: `/v2/method/repo/referrers/${digest}`, allowed: ['GET'] },
  ];
  for (const { method, path, allowed } of cases) {
    it(`${method} ${path.replace(digest, '<digest>')}`, async () => {
      const r = await c.req(method, path, method === 'GET' || method === 'DELETE' ? {} : { body: new Uint8Array() });
      expectError(r, 405, 'UNSUPPORTED');
      const allow = (r.headers.get('allow') ?? '').split(',').map((s) => s.trim().toUpperCase());
      for (const m of allowed) assert.ok(allow.includes(m), `Allow should list ${m}: got ${r.headers.get('allow')}`);
      assert.ok(!allow.includes(method), `Allow should not list ${method}: got ${r.headers.get('allow')}`);
    });
  }
});
