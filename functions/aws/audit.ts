// The audit trail in AWS: entries in the table (adapters/dynamodb/dynamo-audit.ts), each also a
// Powertools log line (`audit`, `pull`) in the process's log group; a failed or late write is an
// `audit write failed` error line and one `AuditWriteFailures` metric (alarm on it), never a failed
// request. Pull counts are written per repository once a minute per container (core/audit.ts;
// REGISTRY_AUDIT_PULL_FLUSH_SECONDS), by the first pull after the minute, without holding it up.
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AuditRecorder, type AuditLog, type AuditLogLine } from '../core/audit.ts';

let failures: Metrics | undefined;

/** One metric per failed write, published at once (EMF), under the service's namespace. */
function countFailure(): void {
  failures ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });
  const m = failures.singleMetric();
  m.addMetric('AuditWriteFailures', MetricUnit.Count, 1);
}

const stdoutLine: AuditLogLine = (level, msg, fields) => process.stdout.write(`${JSON.stringify({ level, message: msg, ...fields })}\n`);

export function awsAuditRecorder(store: AuditLog, pullFlushSeconds: number, logger?: Logger): AuditRecorder {
  const log: AuditLogLine = logger ? (level, msg, fields) => logger[level](msg, fields) : stdoutLine;
  return new AuditRecorder({ store, log, onWriteFailed: countFailure, pullFlushMs: pullFlushSeconds * 1000 });
}
