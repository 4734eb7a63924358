// One JSON log line per request without secrets, and EMF metrics per operation and status class.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operationOf } from '../../../functions/apps/api-lambda/operation.ts';
import { lambdaFixture, type LambdaFixture } from './fixture.ts';

const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let f: LambdaFixture;
beforeEach(async () => {
  f = await lambdaFixture();
});
afterEach(async () => {
  await f.close();
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

describe('logs', () => {
  it('one line per request: method, path without query, status, ms, operation, error code; never a token, _state, Authorization or query string', async () => {
    const secret = 'Bearer sekrit-token-value';
    const blob = Buffer.from('hello layer');
    const post = await f.invoke('POST', '/v2/r/logs/blobs/uploads/', { headers: { authorization: secret } });
    const location = post.headers.location!;
    const state = new URL(location, 'http://h').searchParams.get('_state')!;
    expect(state.length).toBeGreaterThan(10);
    const put = await f.invoke('PUT', `${location}&digest=${sha256(blob)}`, { body: blob, headers: { authorization: secret, 'content-type': 'application/octet-stream' } });
    expect(put.statusCode).toBe(201);
    await f.invoke('GET', '/v2/r/logs/manifests/missing?x-secret-query=1', { headers: { authorization: secret }, cookies: ['sid=cookie-secret'] });

    const out = f.stdout();
    for (const forbidden of ['_state', state, 'sekrit', 'x-secret-query', 'cookie-secret', 'authorization', 'Authorization']) expect(out).not.toContain(forbidden);

    const requests = f.lines().filter((l) => l.message === 'request');
    expect(requests).toHaveLength(3);
    expect(requests.map((l) => [l.method, l.path, l.status, l.operation])).toEqual([
      ['POST', '/v2/r/logs/blobs/uploads/', 202, 'upload.post'],
      ['PUT', new URL(location, 'http://h').pathname, 201, 'upload.put'],
      ['GET', '/v2/r/logs/manifests/missing', 404, 'manifest.get'],
    ]);
    for (const l of requests) {
      expect(l.level).toBe('INFO');
      expect(typeof l.ms).toBe('number');
      expect(l.function_request_id).toMatch(/^aws-/);
      expect(l.apiRequestId).toMatch(/^req-/);
    }
    expect(requests[1]?.bytesIn).toBe(blob.byteLength);
    expect(requests[2]?.error).toBe('MANIFEST_UNKNOWN');
    expect(requests[0]?.error).toBeUndefined();
  });
});

describe('logs with POWERTOOLS_LOGGER_LOG_EVENT=true', () => {
  it('still never log the event (it carries the token and Authorization)', async () => {
    const before = process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    const g = await lambdaFixture();
    try {
      await g.invoke('GET', '/v2/r/x/blobs/uploads/abc?_state=tok-123', { headers: { authorization: 'Basic c2VjcmV0' } });
      expect(g.lines().filter((l) => l.message === 'request')).toHaveLength(1);
      for (const forbidden of ['_state', 'tok-123', 'c2VjcmV0', 'rawQueryString']) expect(g.stdout()).not.toContain(forbidden);
    } finally {
      await g.close();
      if (before === undefined) delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
      else process.env.POWERTOOLS_LOGGER_LOG_EVENT = before;
    }
  });
});

describe('metrics', () => {
  it('emits EMF per request: Requests, Latency, BytesIn, BytesOut by operation and status class', async () => {
    // Lambda sets this for on-demand execution environments; Powertools counts a cold start only then.
    const before = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    await f.close();
    f = await lambdaFixture();
    if (before === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = before;
    const blob = Buffer.alloc(1234, 9);
    const mono = await f.invoke('POST', `/v2/r/m/blobs/uploads/?digest=${sha256(blob)}`, { body: blob });
    expect(mono.statusCode).toBe(201);
    await f.invoke('GET', '/v2/r/none/tags/list');
    const emf = f.lines().filter((l): l is Emf => typeof l._aws === 'object');
    // The first invocation also reports a cold start, in a document of its own.
    expect(emf.filter((d) => d.ColdStart === 1)).toHaveLength(1);
    const perRequest = emf.filter((d) => d.operation !== undefined);
    expect(perRequest).toHaveLength(2);
    const [upload, tags] = perRequest;
    const cw = upload!._aws.CloudWatchMetrics[0]!;
    expect(cw.Namespace).toBe('OciRegistryTest');
    expect(cw.Dimensions[0]).toEqual(expect.arrayContaining(['operation', 'statusClass']));
    expect(cw.Metrics.map((m) => `${m.Name}:${m.Unit}`).sort()).toEqual(['BytesIn:Bytes', 'BytesOut:Bytes', 'Latency:Milliseconds', 'Requests:Count']);
    expect(upload).toMatchObject({ operation: 'upload.post', statusClass: '2xx', Requests: 1, BytesIn: 1234, BytesOut: 0 });
    expect(tags).toMatchObject({ operation: 'tags.get', statusClass: '4xx', Requests: 1, BytesIn: 0 });
    expect(tags!.BytesOut).toBeGreaterThan(0);
  });
});

describe('push and pull counts', () => {
  it('one metric document per request: a push is a manifest.put with statusClass 2xx, a pull a manifest.get with 2xx (what the dashboard sums)', async () => {
    const g = await lambdaFixture();
    try {
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.count',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
        layers: [],
      }));
      const put = await g.invoke('PUT', '/v2/r/count/manifests/v1', { body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
      expect(put.statusCode).toBe(201);
      expect((await g.invoke('GET', '/v2/r/count/manifests/v1', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).statusCode).toBe(200);
      expect((await g.invoke('GET', '/v2/r/count/manifests/nope')).statusCode).toBe(404);
      const emf = g.lines().filter((l): l is Emf => typeof l._aws === 'object');
      expect(emf.map((d) => `${String(d.operation)} ${String(d.statusClass)} ${String(d.Requests)}`)).toEqual(['manifest.put 2xx 1', 'manifest.get 2xx 1', 'manifest.get 4xx 1']);
      for (const d of emf) expect(d._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'operation', 'statusClass']]);
    } finally {
      await g.close();
    }
  });
});

describe('operationOf', () => {
  it.each([
    ['GET', '/v2/', 'base.get'],
    ['GET', '/v2/_catalog', 'catalog.get'],
    ['GET', '/v2/a/b/tags/list', 'tags.get'],
    ['HEAD', '/v2/a/manifests/v1', 'manifest.head'],
    ['PUT', '/v2/a/manifests/sha256:00', 'manifest.put'],
    ['GET', '/v2/a/referrers/sha256:00', 'referrers.get'],
    ['POST', '/v2/a/blobs/uploads/', 'upload.post'],
    ['PATCH', '/v2/a/blobs/uploads/abc', 'upload.patch'],
    ['PUT', '/v2/a/blobs/uploads/abc', 'upload.put'],
    ['GET', '/v2/a/blobs/sha256:00', 'blob.get'],
    ['DELETE', '/v2/a/blobs/sha256:00', 'blob.delete'],
    ['GET', '/favicon.ico', 'other.get'],
    ['BREW', '/v2/', 'base.other'],
  ])('%s %s -> %s', (method, path, op) => {
    expect(operationOf(method, path)).toBe(op);
  });
});
