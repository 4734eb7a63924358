// What the registry holds of the pull-through cache (RegistryDeps.proxy): the proxy projects, the
// fetch leases and tag checks, and where its events go.
import type { LeaseSettings } from './lease.ts';
import type { ProxyConfig } from './model.ts';
import type { ProxyStateStore } from './state.ts';
import type { UpstreamClient } from './upstream-client.ts';

export interface ProxyProject {
  name: string;
  config: ProxyConfig;
  client: UpstreamClient;
}

/** What the pull-through cache reports: each becomes a log line and a metric. */
export interface ProxyEvent {
  event: 'fetched' | 'revalidated' | 'stale-served';
  repository: string;
  reference: string;
  reason?: string;
}

/** The metric each event counts as, in the log line that reports it (a metric filter can count it in AWS). */
export const PROXY_METRICS: Readonly<Record<ProxyEvent['event'], string>> = {
  fetched: 'ProxyFetched',
  revalidated: 'ProxyRevalidated',
  'stale-served': 'ProxyStaleServed',
};

export interface ProxyDeps {
  /** The proxy project a repository belongs to (a project read, kept 5 min per process); undefined for any other. */
  projectOf(repository: string): Promise<ProxyProject | undefined>;
  /** The upstream of the proxy project a write into `repository` would land in, or undefined (the write gate). */
  upstreamOfWrite(repository: string): Promise<{ project: string; upstream: string } | undefined>;
  /** Whether a project of this name exists (a cached project read): the mirror mapping asks it. */
  projectExists(name: string): Promise<boolean>;
  state: ProxyStateStore;
  settings: LeaseSettings;
  report(event: ProxyEvent): void;
  /** The project that answers dockerd's `registry-mirrors` paths (no project prefix), if any. */
  mirror?: string;
}
