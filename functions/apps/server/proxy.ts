// The pull-through cache of `npm start`: proxy projects from the identity database, their upstream
// credentials in the data dir, fetch leases and tag checks in the registry database (shared by every
// process on the data dir). Each proxy event is one log line carrying its metric name and a count.
import { join } from 'node:path';
import { FsUpstreamSecrets } from '../../adapters/fs/fs-upstream-secrets.ts';
import { SqliteProxyState } from '../../adapters/sqlite/sqlite-proxy-state.ts';
import type { IdentityStore } from '../../core/auth/identity-store.ts';
import { proxyProjects } from '../../core/proxy/projects.ts';
import type { ProxyDeps, ProxyEvent } from '../../core/proxy/deps.ts';
import { log } from '../../http/log.ts';

export interface LocalProxyConfig {
  /** The project dockerd's `registry-mirrors` paths map into (REGISTRY_PROXY_MIRROR); undefined: none. */
  mirror?: string;
  leaseSeconds: number;
  waitSeconds: number;
}

const METRICS: Record<ProxyEvent['event'], string> = {
  fetched: 'ProxyFetched',
  revalidated: 'ProxyRevalidated',
  'stale-served': 'ProxyStaleServed',
};

/** Counts per metric since the start (the local server's metrics, as the log lines carry them). */
export const proxyMetrics = new Map<string, number>();

function report(e: ProxyEvent): void {
  const metric = METRICS[e.event];
  const count = (proxyMetrics.get(metric) ?? 0) + 1;
  proxyMetrics.set(metric, count);
  log(e.event === 'stale-served' ? 'warn' : 'info', `proxy ${e.event}`, { metric, count, repository: e.repository, reference: e.reference, reason: e.reason });
}

export function localProxy(dataDir: string, identity: IdentityStore, config: LocalProxyConfig): { proxy: ProxyDeps; close(): void } {
  const state = new SqliteProxyState(join(dataDir, 'registry.db'));
  const proxy: ProxyDeps = {
    ...proxyProjects(identity, new FsUpstreamSecrets(dataDir)),
    state,
    settings: { leaseSeconds: config.leaseSeconds, waitSeconds: config.waitSeconds, pollMs: 100 },
    report,
    ...(config.mirror ? { mirror: config.mirror } : {}),
  };
  return { proxy, close: () => state.close() };
}
