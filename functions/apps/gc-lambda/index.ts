// The deployed GC Lambda: one step of a run per invocation, driven by the GC state machine
// (infra/stacks/gc-stack.ts). A finished run logs one line with its summary and sends its metrics
// (EMF): GcRunsCompleted and GcBytesFreed, GcItemsDeleted (real runs only). A real run that deleted
// anything then purges the repositories it touched from the CDN (functions/aws/gc-purge.ts); a failed
// purge logs an error and counts GcCdnPurgeFailures (alarmed in the monitoring stack).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createGcAwsDeps, readGcConfig, type GcAwsConfig, type GcAwsDeps } from '../../aws/gc-deps.ts';
import { purgeAfterGc } from '../../aws/gc-purge.ts';
import { createGcHandler, type GcHandlerDeps } from './handler.ts';
import { GcRunStore } from '../../adapters/s3/gc-runs.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-gc' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-gc' });
let deps: GcHandlerDeps | undefined;
let aws: { config: GcAwsConfig; deps: GcAwsDeps } | undefined;

function getDeps(): GcHandlerDeps {
  if (!deps) {
    const config = readGcConfig();
    aws = { config, deps: createGcAwsDeps(config) };
    deps = { gc: aws.deps.gc, runs: new GcRunStore(aws.deps.s3, config.bucketName), options: { graceMs: config.graceMs, untaggedMs: config.untaggedMs } };
  }
  return deps;
}

export const handler = createGcHandler(getDeps, {
  onDone: async (runId, report) => {
    const deleted = Object.entries(report.counts).filter(([k]) => k.startsWith('delete.')).reduce((n, [, v]) => n + v, 0);
    logger.info('gc run done', { runId, dryRun: report.dryRun, bytesFreed: report.bytesFreed, counts: report.counts, scanned: report.scanned, pages: report.pages, ms: (report.finishedAt ?? 0) - report.startedAt });
    if (report.dryRun) return;
    metrics.addMetric('GcRunsCompleted', MetricUnit.Count, 1);
    metrics.addMetric('GcBytesFreed', MetricUnit.Bytes, report.bytesFreed);
    metrics.addMetric('GcItemsDeleted', MetricUnit.Count, deleted);
    const purge = await purgeAfterGc(aws?.deps.cloudfront, aws?.config.cdnComment, report);
    if (purge.purged) logger.info('gc purged the CDN', { runId, distributionId: purge.distributionId, paths: purge.paths });
    else if (purge.reason === 'failed') {
      logger.error('gc could not purge the CDN: what the run deleted stays cached until its max-age', { runId, paths: purge.paths, error: purge.error });
      metrics.addMetric('GcCdnPurgeFailures', MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
  },
});
