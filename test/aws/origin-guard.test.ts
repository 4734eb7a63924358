// The API answers only CloudFront: a request without the origin secret CloudFront adds (a call
// straight to the API Gateway URL) is 403 DENIED before the registry sees it.
import { describe, expect, it } from 'vitest';
import { originGuard, ORIGIN_SECRET_HEADER } from '../../functions/aws/origin-guard.ts';
import type { RegistryRequest, RegistryResponse } from '../../functions/core/http.ts';

let seen = 0;
const registry = async (): Promise<RegistryResponse> => {
  seen++;
  return { status: 200, headers: {}, body: 'registry' };
};
const req = (method: string, headers: Record<string, string> = {}): RegistryRequest => ({ method, path: '/v2/', query: new URLSearchParams(), headers }) as RegistryRequest;
const CURRENT = 'c'.repeat(64);
const PREVIOUS = 'p'.repeat(64);

describe('origin guard', () => {
  const api = originGuard(registry, [CURRENT, PREVIOUS]);

  it('passes requests carrying the current or (during a rotation) the previous secret', async () => {
    seen = 0;
    expect((await api(req('GET', { [ORIGIN_SECRET_HEADER]: CURRENT }))).body).toBe('registry');
    expect((await api(req('PUT', { [ORIGIN_SECRET_HEADER]: PREVIOUS }))).body).toBe('registry');
    expect(seen).toBe(2);
  });

  it('refuses a request without it, with another value, a prefix or a longer value: 403 DENIED, the registry untouched', async () => {
    seen = 0;
    const cases: Record<string, string>[] = [{}, { [ORIGIN_SECRET_HEADER]: '' }, { [ORIGIN_SECRET_HEADER]: 'x'.repeat(64) }, { [ORIGIN_SECRET_HEADER]: CURRENT.slice(0, 32) }, { [ORIGIN_SECRET_HEADER]: `${CURRENT}x` }, { 'x-registry-origin': CURRENT }];
    for (const headers of cases) {
      const res = await api(req('GET', headers));
      expect(res.status).toBe(403);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = JSON.parse(String(res.body)) as { errors: { code: string; detail: { reason: string } }[] };
      expect(body.errors[0]!.code).toBe('DENIED');
      expect(body.errors[0]!.detail.reason).toMatch(/through its own domain/);
    }
    const head = await api(req('HEAD'));
    expect(head.status).toBe(403);
    expect(head.body).toBeUndefined();
    expect(seen).toBe(0);
  });

  it('without secrets (the ingest service, behind its VPC origin) there is no guard', async () => {
    expect(originGuard(registry, [])).toBe(registry);
  });
});
