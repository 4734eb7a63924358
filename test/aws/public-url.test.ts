// The token realm of an AWS environment without a domain: CloudFront's own host name, which the
// CloudFront Functions write into each request (functions/edge/read-routing.js, viewer-request.js).
// Only a cloudfront.net name is taken; without one the challenge falls back to the fixed realm.
import { describe, expect, it } from 'vitest';
import { edgeRealm, PUBLIC_HOST_HEADER } from '../../functions/aws/public-url.ts';
import { TokenAuthorizer } from '../../functions/core/auth/token-authorizer.ts';
import { TokenService } from '../../functions/core/auth/jwt.ts';
import { tokenKeysFrom } from '../../functions/core/auth/token-keys.ts';
import type { RegistryRequest } from '../../functions/core/http.ts';

const request = (headers: Record<string, string>): RegistryRequest => ({ method: 'GET', path: '/v2/', query: new URLSearchParams(), headers });

describe('edgeRealm', () => {
  it.each([
    ['d111111abcdef8.cloudfront.net', 'https://d111111abcdef8.cloudfront.net/token'],
    ['evil.example.com', undefined],
    ['d1.cloudfront.net.evil.com', undefined],
    ['d1.cloudfront.net/x', undefined],
    ['D1.CLOUDFRONT.NET', undefined],
  ])('%s -> %s', (host, realm) => {
    expect(edgeRealm(request({ [PUBLIC_HOST_HEADER]: host }))).toBe(realm);
  });

  it('no header: none', () => {
    expect(edgeRealm(request({}))).toBeUndefined();
  });

  it('the challenge of a domain-less environment names the distribution of the request', async () => {
    const tokens = new TokenService(tokenKeysFrom([Buffer.alloc(32, 7)]), { issuer: 'oci-registry-dev', service: 'oci-registry-dev', refreshTokenSeconds: 3600 });
    const authorizer = new TokenAuthorizer(tokens, { realm: '', realmOf: edgeRealm, service: 'oci-registry-dev' });
    const decision = await authorizer.authorize(request({ [PUBLIC_HOST_HEADER]: 'd2abc.cloudfront.net' }), [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expect(decision).toMatchObject({ allowed: false, status: 401, challenge: 'Bearer realm="https://d2abc.cloudfront.net/token",service="oci-registry-dev",scope="repository:team/app:pull"' });
  });
});
