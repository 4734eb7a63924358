// The API Lambda end to end on the local adapters: a blob pushed in chunks and monolithically, a
// manifest by tag, pulls by tag and digest, a 4 MiB manifest through the base64 event path.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAMBDA_REQUEST_LIMIT } from '../../../functions/apps/api-lambda/apigw-event.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from '../../support/oci.ts';
import { apiEvent } from './events.ts';
import { lambdaFixture, type LambdaFixture } from './fixture.ts';

const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const withDigest = (location: string, digest: string) => `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

let f: LambdaFixture;
beforeEach(async () => {
  f = await lambdaFixture();
});
afterEach(async () => {
  await f.close();
});

describe('API Lambda handler', () => {
  it('pushes a blob in two PATCHes and a config monolithically, puts a manifest by tag, pulls it back', async () => {
    const layer = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');

    const post = await f.invoke('POST', '/v2/team/app/blobs/uploads/');
    expect(post.statusCode).toBe(202);
    let location = post.headers.location!;
    expect(location).toMatch(/^\/v2\/team\/app\/blobs\/uploads\/[^?]+\?_state=/);
    for (const [from, to] of [[0, 30_000], [30_000, layer.byteLength]] as const) {
      const patch = await f.invoke('PATCH', location, {
        body: layer.subarray(from, to),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
      });
      expect(patch.statusCode, patch.bytes().toString()).toBe(202);
      expect(patch.headers.range).toBe(`0-${to - 1}`);
      location = patch.headers.location!;
    }
    const put = await f.invoke('PUT', withDigest(location, sha256(layer)));
    expect(put.statusCode).toBe(201);
    expect(put.headers['docker-content-digest']).toBe(sha256(layer));

    const mono = await f.invoke('POST', `/v2/team/app/blobs/uploads/?digest=${sha256(config)}`, { body: config, headers: { 'content-type': 'application/octet-stream' } });
    expect(mono.statusCode).toBe(201);

    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.byteLength },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.byteLength }],
    });
    const mput = await f.invoke('PUT', '/v2/team/app/manifests/v1', { body: Buffer.from(manifest), headers: { 'content-type': OCI_MANIFEST } });
    expect(mput.statusCode, mput.bytes().toString()).toBe(201);
    expect(mput.headers['docker-content-digest']).toBe(sha256(manifest));

    const get = await f.invoke('GET', '/v2/team/app/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(get.statusCode).toBe(200);
    expect(get.bytes().toString()).toBe(manifest);
    expect(get.headers['content-type']).toBe(OCI_MANIFEST);

    const head = await f.invoke('HEAD', `/v2/team/app/manifests/${sha256(manifest)}`, { headers: { accept: OCI_MANIFEST } });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBeUndefined();
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(manifest)));
    expect(head.headers['docker-content-digest']).toBe(sha256(manifest));

    const blobHead = await f.invoke('HEAD', `/v2/team/app/blobs/${sha256(layer)}`);
    expect(blobHead.statusCode).toBe(200);
    expect(blobHead.headers['content-length']).toBe(String(layer.byteLength));
    const blobGet = await f.invoke('GET', `/v2/team/app/blobs/${sha256(layer)}`);
    expect(blobGet.statusCode).toBe(307);
    expect(blobGet.headers.location).toBeTruthy();

    const tags = await f.invoke('GET', '/v2/team/app/tags/list');
    expect(tags.json()).toEqual({ name: 'team/app', tags: ['v1'] });

    const missing = await f.invoke('GET', '/v2/team/app/manifests/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors?.[0]?.code).toBe('MANIFEST_UNKNOWN');
  });

  it('hands every repeated tag parameter of a manifest PUT to the registry', async () => {
    const seen: string[][] = [];
    const g = await lambdaFixture({
      getRegistry: (real) => () => async (req) => {
        seen.push(req.query.getAll('tag'));
        return real(req);
      },
    });
    try {
      const put = await g.invoke('PUT', `/v2/r/t/manifests/${sha256('x')}?tag=a&tag=b`, { body: Buffer.from('x'), headers: { 'content-type': OCI_MANIFEST } });
      expect(put.statusCode).toBe(400);
      expect(seen).toEqual([['a', 'b']]);
    } finally {
      await g.close();
    }
  });

  it('accepts a 4 MiB manifest PUT through the base64 event path and serves it back', async () => {
    await f.invoke('POST', `/v2/big/m/blobs/uploads/?digest=${sha256('{}')}`, { body: Buffer.from('{}') });
    const base = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/x.big', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2, data: 'e30=' }, layers: [], annotations: { pad: '' } };
    const pad = 4 * 1024 * 1024 - Buffer.byteLength(JSON.stringify(base));
    const manifest = Buffer.from(JSON.stringify({ ...base, annotations: { pad: 'x'.repeat(pad) } }));
    expect(manifest.byteLength).toBe(4 * 1024 * 1024);
    const event = apiEvent('PUT', '/v2/big/m/manifests/v1', { body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    expect(event.isBase64Encoded).toBe(true);
    // It fits in one Lambda request (API Gateway base64-encodes non-text types such as this one).
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(LAMBDA_REQUEST_LIMIT);
    const put = await f.send(event);
    expect(put.statusCode, put.bytes().toString().slice(0, 300)).toBe(201);
    const get = await f.invoke('GET', '/v2/big/m/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(get.statusCode).toBe(200);
    expect(get.bytes().equals(manifest)).toBe(true);
  });
});
