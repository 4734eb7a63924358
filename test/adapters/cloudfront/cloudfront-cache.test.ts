// The CDN purge of the AWS shape, at the SDK boundary (CloudFront has no local stand-in; start:aws
// purges its own cache emulation instead): which distribution, which paths, and that a failure is
// reported, never thrown into the delete that asked for it.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFrontClient, CreateInvalidationCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { CloudFrontCache, DISTRIBUTION_HEADER, purgeDistribution } from '../../../functions/adapters/cloudfront/cloudfront-cache.ts';
import type { RegistryRequest } from '../../../functions/core/http.ts';

const cf = mockClient(CloudFrontClient);
const req = (headers: Record<string, string>): RegistryRequest => ({ method: 'DELETE', path: '/v2/pub/app/manifests/v1', query: new URLSearchParams(), headers });
let errors: { error: unknown; paths: readonly string[] }[];
const cache = () => new CloudFrontCache(new CloudFrontClient({ region: 'us-east-1' }), (error, detail) => errors.push({ error, ...detail }));

beforeEach(() => {
  cf.reset();
  errors = [];
});

describe('CloudFrontCache', () => {
  it("invalidates the paths in the request's distribution, each purge its own caller reference", async () => {
    cf.on(CreateInvalidationCommand).resolves({});
    await cache().purge(req({ [DISTRIBUTION_HEADER]: 'E2ABCDEF123456' }), ['/v2/pub/app/*']);
    await cache().purge(req({ [DISTRIBUTION_HEADER]: 'E2ABCDEF123456' }), ['/v2/pub/app/*']);
    const calls = cf.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ DistributionId: 'E2ABCDEF123456', InvalidationBatch: { Paths: { Quantity: 1, Items: ['/v2/pub/app/*'] } } });
    expect(calls[0]!.InvalidationBatch!.CallerReference).not.toBe(calls[1]!.InvalidationBatch!.CallerReference);
    expect(errors).toEqual([]);
  });

  it('without a well-formed distribution id on the request it calls nothing and reports why', async () => {
    const cases: Record<string, string>[] = [{}, { [DISTRIBUTION_HEADER]: '' }, { [DISTRIBUTION_HEADER]: 'e2abc/../x' }];
    for (const headers of cases) await cache().purge(req(headers), ['/v2/pub/app/*']);
    expect(cf.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
    expect(errors).toHaveLength(3);
    expect(String(errors[0]!.error)).toMatch(/no CloudFront distribution id/);
  });

  it('a refused call (throttled, denied) is reported, not thrown', async () => {
    cf.on(CreateInvalidationCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyInvalidationsInProgress' }));
    await expect(cache().purge(req({ [DISTRIBUTION_HEADER]: 'E2ABCDEF123456' }), ['/v2/pub/app/*'])).resolves.toBeUndefined();
    expect(errors.map((e) => e.paths)).toEqual([['/v2/pub/app/*']]);
  });
});

describe('purgeDistribution (npm run admin -- --aws: no request to read the id from)', () => {
  it("finds the environment's distribution by its comment, across pages, and invalidates there", async () => {
    cf.on(ListDistributionsCommand, {}).resolves({ DistributionList: { Marker: '', MaxItems: 1, Quantity: 1, IsTruncated: true, NextMarker: 'm2', Items: [{ Id: 'EOTHER', Comment: 'OCI registry staging' } as never] } });
    cf.on(ListDistributionsCommand, { Marker: 'm2' }).resolves({ DistributionList: { Marker: 'm2', MaxItems: 1, Quantity: 1, IsTruncated: false, Items: [{ Id: 'EPROD', Comment: 'OCI registry prod' } as never] } });
    cf.on(CreateInvalidationCommand).resolves({});
    expect(await purgeDistribution(new CloudFrontClient({ region: 'us-east-1' }), 'OCI registry prod', ['/v2/team/*'])).toBe('EPROD');
    expect(cf.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ DistributionId: 'EPROD', InvalidationBatch: expect.objectContaining({ Paths: { Quantity: 1, Items: ['/v2/team/*'] } }) }),
    ]);
  });

  it('no such distribution: an error that says so, and no invalidation', async () => {
    cf.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 1, Quantity: 0, IsTruncated: false, Items: [] } });
    await expect(purgeDistribution(new CloudFrontClient({ region: 'us-east-1' }), 'OCI registry prod', ['/v2/team/*'])).rejects.toThrow(/no CloudFront distribution with the comment "OCI registry prod"/);
    expect(cf.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });
});
