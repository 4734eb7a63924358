// What the pull-through cache reports (core/proxy/deps.ts ProxyEvent), as one structured log line
// per event carrying its metric name and a running count in this process: `npm start`'s metrics, and
// in AWS a CloudWatch Logs line a metric filter can count.
import { PROXY_METRICS, type ProxyEvent } from '../core/proxy/deps.ts';
import { log } from './log.ts';

/** Counts per metric since the start of this process. */
export const proxyMetrics = new Map<string, number>();

export function reportProxyEvent(e: ProxyEvent): void {
  const metric = PROXY_METRICS[e.event];
  const count = (proxyMetrics.get(metric) ?? 0) + 1;
  proxyMetrics.set(metric, count);
  log(e.event === 'stale-served' ? 'warn' : 'info', `proxy ${e.event}`, { metric, count, repository: e.repository, reference: e.reference, reason: e.reason });
}
