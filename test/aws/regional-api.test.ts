// A region's API before the registry: a replica refuses writes with 503 naming the primary; every
// region serves CloudFront's unavailable page.
import { describe, expect, it } from 'vitest';
import { regionalApi, UNAVAILABLE_PAGE } from '../../functions/aws/regional-api.ts';
import type { RegistryRequest, RegistryResponse } from '../../functions/core/http.ts';
import { UNAVAILABLE_PAGE_PATH } from '../../functions/edge/source.ts';

const seen: string[] = [];
const registry = async (req: RegistryRequest): Promise<RegistryResponse> => {
  seen.push(`${req.method} ${req.path}`);
  return { status: 200, headers: {}, body: 'registry' };
};
const req = (method: string, path: string): RegistryRequest => ({ method, path, query: new URLSearchParams(), headers: {} }) as RegistryRequest;

describe('regional API', () => {
  it('a replica answers writes 503 UNAVAILABLE naming the primary region, and passes reads on', async () => {
    const api = regionalApi(registry, 'eu-west-1', 'us-east-1');
    for (const method of ['PUT', 'POST', 'PATCH', 'DELETE']) {
      seen.length = 0;
      const res = await api(req(method, '/v2/a/manifests/v1'));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      const body = JSON.parse(String(res.body)) as { errors: { code: string; detail: { primaryRegion: string; reason: string } }[] };
      expect(body.errors[0]!.code).toBe('UNAVAILABLE');
      expect(body.errors[0]!.detail.primaryRegion).toBe('us-east-1');
      expect(body.errors[0]!.detail.reason).toMatch(/read replica in eu-west-1/);
      expect(seen).toEqual([]);
    }
    expect((await api(req('GET', '/v2/a/manifests/v1'))).body).toBe('registry');
    expect((await api(req('HEAD', '/v2/a/blobs/x'))).body).toBe('registry');
  });

  it('the primary, and a registry with one region, pass writes on', async () => {
    for (const api of [regionalApi(registry, 'us-east-1', 'us-east-1'), regionalApi(registry, 'us-east-1', undefined)]) {
      expect((await api(req('PUT', '/v2/a/manifests/v1'))).body).toBe('registry');
    }
  });

  it('every region serves the unavailable page (200: CloudFront sends it as the 503), never cached', async () => {
    for (const api of [regionalApi(registry, 'eu-west-1', 'us-east-1'), regionalApi(registry, 'us-east-1', undefined)]) {
      const res = await api(req('GET', UNAVAILABLE_PAGE_PATH));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(String(res.body))).toEqual(UNAVAILABLE_PAGE);
      const head = await api(req('HEAD', UNAVAILABLE_PAGE_PATH));
      expect(head.body).toBeUndefined();
    }
  });
});
