// The read-routing CloudFront Function (functions/edge/read-routing.js) as deployed, run in the
// harness: writes to the primary region, reads to the region nearest the viewer with failover.
import { describe, expect, it } from 'vitest';
import { loadEdgeFunction, type RunResult } from '../../dev/cloudfront/harness.ts';
import { edgeFunctionSource, EDGE_FUNCTION_MAX_BYTES, type ReadRoutingConfig } from '../../functions/edge/source.ts';
import { event } from './fixtures.ts';

// prod's shape: primary us-east-1, replicas eu-west-1 and ap-southeast-2 (coordinates as infra has them).
const PROD: ReadRoutingConfig = {
  primary: 'us-east-1',
  fallback: 'eu-west-1',
  regions: [['us-east-1', 38.9, -77.4], ['eu-west-1', 53.3, -6.3], ['ap-southeast-2', -33.9, 151.2]],
  api: { 'us-east-1': 'api', 'eu-west-1': 'api-eu-west-1', 'ap-southeast-2': 'api-ap-southeast-2' },
  blobs: { 'us-east-1': 'blobs-us-east-1', 'eu-west-1': 'blobs-eu-west-1', 'ap-southeast-2': 'blobs-ap-southeast-2' },
  ui: 'ui',
};
const ONE: ReadRoutingConfig = { primary: 'eu-west-1', fallback: '', regions: [['eu-west-1', 53.3, -6.3]], api: { 'eu-west-1': 'api' }, blobs: { 'eu-west-1': 'blobs-eu-west-1' } };

const fn = loadEdgeFunction('read-routing', { config: PROD });
const at = (lat: number, lon: number) => ({ 'cloudfront-viewer-latitude': String(lat), 'cloudfront-viewer-longitude': String(lon) });
const SYDNEY = at(-33.87, 151.21);
const PARIS = at(48.86, 2.35);
const CHICAGO = at(41.88, -87.63);
const TOKYO = at(35.68, 139.69);

function group(r: RunResult): { ids: string[]; codes: number[] } {
  expect(r.kind).toBe('request');
  expect(r.origin.kind).toBe('group');
  const p = (r.origin as { params: { originIds: { originId: string }[]; failoverCriteria: { statusCodes: number[] } } }).params;
  return { ids: p.originIds.map((o) => o.originId), codes: p.failoverCriteria.statusCodes };
}

describe('read routing', () => {
  it('every write goes to the primary API, wherever the viewer is and whatever the path', async () => {
    for (const method of ['PUT', 'POST', 'PATCH', 'DELETE']) {
      for (const where of [SYDNEY, PARIS, CHICAGO, {}]) {
        const r = await fn.run(event(method, '/v2/team/app/manifests/v1', where));
        expect(r.origin, `${method} ${JSON.stringify(where)}`).toEqual({ kind: 'id', id: 'api' });
      }
    }
  });

  it('a pull goes to the nearest region; a replica falls back to the primary on a miss or an error', async () => {
    for (const path of ['/v2/team/app/manifests/v1', '/v2/team/app/tags/list', '/v2/team/app/blobs/sha256:' + 'a'.repeat(64), '/v2/', '/v2/_catalog']) {
      for (const method of ['GET', 'HEAD']) {
        expect(group(await fn.run(event(method, path, SYDNEY)))).toEqual({ ids: ['api-ap-southeast-2', 'api'], codes: [403, 404, 500, 502, 503, 504] });
        expect(group(await fn.run(event(method, path, PARIS))).ids).toEqual(['api-eu-west-1', 'api']);
        expect(group(await fn.run(event(method, path, TOKYO))).ids).toEqual(['api-ap-southeast-2', 'api']);
      }
    }
  });

  it('near the primary, a pull goes to the primary and fails over to the nearest replica on errors only (its 404 is the truth)', async () => {
    expect(group(await fn.run(event('GET', '/v2/team/app/manifests/v1', CHICAGO)))).toEqual({ ids: ['api', 'api-eu-west-1'], codes: [500, 502, 503, 504] });
  });

  it('blob bytes (signed /blobs/ URLs) come from the nearest bucket, the primary\'s when a replica misses them', async () => {
    const path = '/blobs/sha256/ab/' + 'ab'.repeat(32) + '?Expires=1&Signature=x&Key-Pair-Id=K';
    expect(group(await fn.run(event('GET', path, SYDNEY)))).toEqual({ ids: ['blobs-ap-southeast-2', 'blobs-us-east-1'], codes: [403, 404, 500, 502, 503, 504] });
    expect(group(await fn.run(event('GET', path, CHICAGO))).ids).toEqual(['blobs-us-east-1', 'blobs-eu-west-1']);
  });

  it('no usable location: the primary, with its fallback', async () => {
    for (const where of [{}, at(91, 0), { 'cloudfront-viewer-latitude': 'x', 'cloudfront-viewer-longitude': '1' }, { 'cloudfront-viewer-latitude': '', 'cloudfront-viewer-longitude': '' }]) {
      expect(group(await fn.run(event('GET', '/v2/a/manifests/v1', where))).ids).toEqual(['api', 'api-eu-west-1']);
    }
  });

  it('one region: every request to its origins, no group', async () => {
    const single = loadEdgeFunction('read-routing', { config: ONE });
    expect((await single.run(event('GET', '/v2/a/manifests/v1', SYDNEY))).origin).toEqual({ kind: 'id', id: 'api' });
    expect((await single.run(event('GET', '/blobs/x', SYDNEY))).origin).toEqual({ kind: 'id', id: 'blobs-eu-west-1' });
    expect((await single.run(event('PUT', '/v2/a/manifests/v1', SYDNEY))).origin).toEqual({ kind: 'id', id: 'api' });
  });

  it('the request goes on unchanged but for the distribution id (the purge of a DELETE) and host name (the token realm without a domain) it carries, over any the viewer sent', async () => {
    const extras: Record<string, string>[] = [{}, { 'x-registry-distribution': 'EVIEWER', 'x-registry-host': 'evil.example.com' }];
    for (const extra of extras) {
      const e = event('GET', '/v2/a/manifests/v1?x=1', { ...PARIS, authorization: 'Bearer t', ...extra });
      const r = await fn.run(e);
      const expected = structuredClone(e.request);
      expected.headers['x-registry-distribution'] = { value: e.context.distributionId };
      expected.headers['x-registry-host'] = { value: e.context.distributionDomainName };
      expect(r.kind === 'request' && r.request).toEqual(expected);
    }
  });

  it("an anonymous token is dropped from reads (so anonymous pullers share one cached answer); any other is kept, and writes keep theirs", async () => {
    const jwt = (payload: unknown) => `Bearer eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
    const headersAfter = async (method: string, authorization: string) => {
      const r = await fn.run(event(method, '/v2/pub/app/manifests/v1', { ...PARIS, authorization }));
      return r.kind === 'request' ? r.request.headers : undefined;
    };
    for (const method of ['GET', 'HEAD']) expect((await headersAfter(method, jwt({ sub: 'anonymous', access: [] })))?.authorization).toBeUndefined();
    for (const kept of [jwt({ sub: 'alice' }), jwt({ sub: 'anonymousx' }), 'Bearer not-a-jwt', `Basic ${Buffer.from('anonymous:x').toString('base64')}`, 'Bearer a.%%%.b']) {
      expect((await headersAfter('GET', kept))?.authorization).toEqual({ value: kept });
    }
    expect((await headersAfter('PUT', jwt({ sub: 'anonymous' })))?.authorization).toEqual({ value: jwt({ sub: 'anonymous' }) });
  });

  it('a read of `/` is the web interface\'s page: index.html from its bucket, without credentials, from anywhere', async () => {
    for (const method of ['GET', 'HEAD']) {
      for (const where of [SYDNEY, CHICAGO, {}]) {
        const r = await fn.run(event(method, '/?x=1', { ...where, authorization: 'Bearer t', 'x-amz-request-payer': 'requester', accept: 'text/html' }));
        expect(r.origin).toEqual({ kind: 'id', id: 'ui' });
        expect(r.kind === 'request' && r.request.uri).toBe('/index.html');
        expect(r.kind === 'request' && r.request.querystring).toEqual({});
        const headers = r.kind === 'request' ? r.request.headers : {};
        expect(headers.authorization).toBeUndefined();
        expect(headers['x-amz-request-payer']).toBeUndefined();
        expect(headers.accept).toEqual({ value: 'text/html' });
        expect(headers['x-registry-host']).toBeUndefined();
      }
    }
  });

  it('only a read of `/` itself: a write to it, and every other path, stays the registry\'s; without a ui origin `/` is the API\'s', async () => {
    expect((await fn.run(event('POST', '/', PARIS))).origin).toEqual({ kind: 'id', id: 'api' });
    for (const path of ['/index.htm', '//', '/v2/', '/ui']) expect(group(await fn.run(event('GET', path, PARIS))).ids, path).toEqual(['api-eu-west-1', 'api']);
    const r = await loadEdgeFunction('read-routing', { config: ONE }).run(event('GET', '/', PARIS));
    expect(r.origin).toEqual({ kind: 'id', id: 'api' });
    expect(r.kind === 'request' && r.request.uri).toBe('/');
  });

  it('settings are checked before they are written into the code', () => {
    expect(() => edgeFunctionSource('read-routing', { ...PROD, primary: 'eu-west-1' })).toThrow(/primary region comes first/);
    expect(() => edgeFunctionSource('read-routing', { ...PROD, fallback: 'us-east-1' })).toThrow(/fallback/);
    expect(() => edgeFunctionSource('read-routing', { ...PROD, api: { ...PROD.api, 'eu-west-1': "x'; evil()" } })).toThrow(/origin id/);
    expect(() => edgeFunctionSource('read-routing', { ...ONE, regions: [['eu-west-1', 95, 0]] })).toThrow(/bad region/);
    expect(() => edgeFunctionSource('read-routing', { ...PROD, ui: 'u i' })).toThrow(/origin id/);
    expect(edgeFunctionSource('read-routing', ONE)).toContain('"ui":""');
    expect(Buffer.byteLength(edgeFunctionSource('read-routing', PROD))).toBeLessThan(EDGE_FUNCTION_MAX_BYTES);
  });
});
