// The deployed GC Lambda: one step of a run per invocation, driven by the GC state machine
// (infra/stacks/gc-stack.ts). A finished run logs one line with its summary and sends its metrics
// (EMF): GcRunsCompleted and GcBytesFreed, GcItemsDeleted (real runs only).
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createGcAwsDeps, readGcConfig } from '../../aws/gc-deps.ts';
import { createGcHandler, type GcHandlerDeps } from './handler.ts';
import { GcRunStore } from '../../adapters/s3/gc-runs.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-gc' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-gc' });
let deps: GcHandlerDeps | undefined;

function getDeps(): GcHandlerDeps {
  if (!deps) {
    const config = readGcConfig();
    const aws = createGcAwsDeps(config);
    deps = { gc: aws.gc, runs: new GcRunStore(aws.s3, config.bucketName), options: { graceMs: config.graceMs, untaggedMs: config.untaggedMs } };
  }
  return deps;
}

export const handler = createGcHandler(getDeps, {
  onDone: (runId, report) => {
    const deleted = Object.entries(report.counts).filter(([k]) => k.startsWith('delete.')).reduce((n, [, v]) => n + v, 0);
    logger.info('gc run done', { runId, dryRun: report.dryRun, bytesFreed: report.bytesFreed, counts: report.counts, scanned: report.scanned, pages: report.pages, ms: (report.finishedAt ?? 0) - report.startedAt });
    if (report.dryRun) return;
    metrics.addMetric('GcRunsCompleted', MetricUnit.Count, 1);
    metrics.addMetric('GcBytesFreed', MetricUnit.Bytes, report.bytesFreed);
    metrics.addMetric('GcItemsDeleted', MetricUnit.Count, deleted);
    metrics.publishStoredMetrics();
  },
});
