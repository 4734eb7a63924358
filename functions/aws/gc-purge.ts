// After a GC run in AWS: what the run deleted may still be in CloudFront's cache (an anonymous pull
// of a public image caches a manifest by digest for a day, core/shared-cache.ts), so the finished
// run invalidates the repositories it touched (one wildcard path each, or `/v2/*` past
// MAX_PURGED_REPOS) in the environment's distribution, found by its comment (the GC runs in the
// primary region; the distribution is created after it, so its id is not known at deploy time).
// A failure is reported, never the run's failure: the entries then live out their max-age.
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { purgeDistribution } from '../adapters/cloudfront/cloudfront-cache.ts';
import { purgePaths, type GcReport } from '../core/gc/report.ts';

export type GcPurgeOutcome =
  | { purged: false; reason: 'dry run' | 'nothing deleted' | 'no CDN' }
  | { purged: true; distributionId: string; paths: string[] }
  | { purged: false; reason: 'failed'; paths: string[]; error: string };

/** Invalidates what `report`'s run made stale in the distribution whose comment is `comment` (undefined: no CDN). */
export async function purgeAfterGc(client: CloudFrontClient | undefined, comment: string | undefined, report: GcReport): Promise<GcPurgeOutcome> {
  if (report.dryRun) return { purged: false, reason: 'dry run' };
  const paths = purgePaths(report);
  if (paths.length === 0) return { purged: false, reason: 'nothing deleted' };
  if (client === undefined || comment === undefined) return { purged: false, reason: 'no CDN' };
  try {
    return { purged: true, distributionId: await purgeDistribution(client, comment, paths), paths };
  } catch (e) {
    return { purged: false, reason: 'failed', paths, error: e instanceof Error ? e.message : String(e) };
  }
}
