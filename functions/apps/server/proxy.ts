// The pull-through cache of `npm start`: proxy projects from the identity database, their upstream
// credentials in the data dir, fetch leases and tag checks in the registry database (shared by every
// process on the data dir). Each proxy event is one log line carrying its metric name and a count.
import { join } from 'node:path';
import { FsUpstreamSecrets } from '../../adapters/fs/fs-upstream-secrets.ts';
import { SqliteProxyState } from '../../adapters/sqlite/sqlite-proxy-state.ts';
import type { IdentityStore } from '../../core/auth/identity-store.ts';
import { proxyProjects } from '../../core/proxy/projects.ts';
import type { ProxyDeps } from '../../core/proxy/deps.ts';
import type { ProxySettings } from '../../config/proxy-settings.ts';
import { reportProxyEvent } from '../../http/proxy-report.ts';

export type LocalProxyConfig = ProxySettings;

export function localProxy(dataDir: string, identity: IdentityStore, config: LocalProxyConfig): { proxy: ProxyDeps; close(): void } {
  const state = new SqliteProxyState(join(dataDir, 'registry.db'));
  const proxy: ProxyDeps = {
    ...proxyProjects(identity, new FsUpstreamSecrets(dataDir), { fetchSeconds: config.fetchSeconds }),
    state,
    settings: { leaseSeconds: config.leaseSeconds, waitSeconds: config.waitSeconds, pollMs: 100 },
    report: reportProxyEvent,
    ...(config.mirror ? { mirror: config.mirror } : {}),
  };
  return { proxy, close: () => state.close() };
}
