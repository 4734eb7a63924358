// The GC's CDN purge in AWS (functions/aws/gc-purge.ts), at the SDK boundary (CloudFront has no local
// stand-in): the distribution found by its comment, the run's paths invalidated there, and every way
// it does not purge said in the outcome, a failure never thrown into the run.
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFrontClient, CreateInvalidationCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { purgeAfterGc } from '../../functions/aws/gc-purge.ts';
import { distributionComment } from '../../functions/adapters/cloudfront/cloudfront-cache.ts';
import { emptyReport, recordAction, type GcReport } from '../../functions/core/gc/report.ts';

const cf = mockClient(CloudFrontClient);
const client = () => new CloudFrontClient({ region: 'us-east-1' });
const COMMENT = distributionComment('prod');

function ran(dryRun: boolean, repos: string[]): GcReport {
  const r = emptyReport(dryRun, 0, 0, 0);
  for (const repo of repos) recordAction(r, { action: 'delete', kind: 'manifest', repo, digest: 'sha256:x', bytes: 1, reason: 'test' });
  return r;
}

beforeEach(() => {
  cf.reset();
  cf.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 100, Quantity: 2, IsTruncated: false, Items: [{ Id: 'ESTAGING', Comment: distributionComment('staging') } as never, { Id: 'EPROD', Comment: COMMENT } as never] } });
  cf.on(CreateInvalidationCommand).resolves({});
});

describe('purgeAfterGc', () => {
  it("invalidates the run's repositories in the environment's distribution", async () => {
    expect(await purgeAfterGc(client(), COMMENT, ran(false, ['team/a', 'team/b']))).toEqual({ purged: true, distributionId: 'EPROD', paths: ['/v2/team/a/*', '/v2/team/b/*'] });
    expect(cf.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ DistributionId: 'EPROD', InvalidationBatch: expect.objectContaining({ Paths: { Quantity: 2, Items: ['/v2/team/a/*', '/v2/team/b/*'] } }) }),
    ]);
  });

  it('a dry run, a run that deleted nothing servable, and an environment without a CDN purge nothing and call nothing', async () => {
    expect(await purgeAfterGc(client(), COMMENT, ran(true, ['team/a']))).toEqual({ purged: false, reason: 'dry run' });
    expect(await purgeAfterGc(client(), COMMENT, ran(false, []))).toEqual({ purged: false, reason: 'nothing deleted' });
    expect(await purgeAfterGc(undefined, undefined, ran(false, ['team/a']))).toEqual({ purged: false, reason: 'no CDN' });
    expect(await purgeAfterGc(client(), undefined, ran(false, ['team/a']))).toEqual({ purged: false, reason: 'no CDN' });
    expect(cf.calls()).toHaveLength(0);
  });

  it('no distribution with that comment: a failed outcome naming it, no invalidation, nothing thrown', async () => {
    const out = await purgeAfterGc(client(), distributionComment('gone'), ran(false, ['team/a']));
    expect(out).toEqual({ purged: false, reason: 'failed', paths: ['/v2/team/a/*'], error: expect.stringMatching(/no CloudFront distribution with the comment "OCI registry gone"/) });
    expect(cf.commandCalls(CreateInvalidationCommand)).toHaveLength(0);
  });

  it('CloudFront refuses the invalidation (a throttle, a denied role): a failed outcome with its message', async () => {
    cf.on(CreateInvalidationCommand).rejects(new Error('Rate exceeded'));
    expect(await purgeAfterGc(client(), COMMENT, ran(false, ['team/a']))).toEqual({ purged: false, reason: 'failed', paths: ['/v2/team/a/*'], error: 'Rate exceeded' });
    cf.on(CreateInvalidationCommand).rejects('a string, not an Error');
    expect(await purgeAfterGc(client(), COMMENT, ran(false, ['team/a']))).toMatchObject({ purged: false, reason: 'failed' });
  });
});
