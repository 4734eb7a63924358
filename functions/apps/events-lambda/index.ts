// The deployed events Lambda: S3 ObjectCreated notifications for edge uploads, recorded in DynamoDB.
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsDeps, type AwsDeps } from '../../aws/deps.ts';
import { readAwsConfig } from '../../aws/config.ts';
import { createEventsHandler } from './handler.ts';
import { projectQuotas } from '../../core/quota.ts';
import type { EventDeps } from './record.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-events' });
let deps: Promise<EventDeps> | undefined;

function getDeps(): Promise<EventDeps> {
  // Projects' quotas apply to edge uploads too: one over its quota is not linked (record.ts).
  deps ??= createAwsDeps(readAwsConfig()).then((d: AwsDeps) => ({ metadata: d.metadata, blobs: d.blobs, now: Date.now, quotas: projectQuotas(d.identity) }));
  deps.catch(() => (deps = undefined));
  return deps;
}

export const handler = createEventsHandler(getDeps, {
  onOutcome: (o) => {
    if (o.result === 'failed') logger.error('edge upload not recorded', { key: o.key, error: String(o.error) });
    else logger.info('edge upload', { key: o.key, result: o.result });
  },
});
