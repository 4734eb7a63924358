// The proxy projects as the registry reads them per request: the project's item from the cached
// project reader (core/auth/project-cache.ts), and one upstream client per project, kept while the
// project's proxy settings stay the same (so its upstream tokens are reused until they expire).
import type { IdentityStore } from '../auth/identity-store.ts';
import { projectOf } from '../auth/model.ts';
import { cachedProjects } from '../auth/project-cache.ts';
import type { UpstreamSecrets } from './model.ts';
import type { ProxyDeps, ProxyProject } from './deps.ts';
import { UpstreamClient, type Fetch } from './upstream-client.ts';

/**
 * How long a process keeps a project read: a project's proxy settings are fixed at its creation (no
 * command changes them), so only a project created under a name this process already looked up
 * (and found nothing) waits this long to be seen as a pull-through cache.
 */
export const PROXY_PROJECT_SECONDS = 300;

export function proxyProjects(
  store: IdentityStore,
  secrets: UpstreamSecrets,
  opts: { now?: () => number; ttlSeconds?: number; fetch?: Fetch; fetchSeconds?: number } = {},
): Pick<ProxyDeps, 'projectOf' | 'projectExists' | 'upstreamOfWrite'> {
  const now = opts.now ?? Date.now;
  const project = cachedProjects(store, now, opts.ttlSeconds ?? PROXY_PROJECT_SECONDS);
  const clients = new Map<string, { settings: string; proxy: ProxyProject }>();
  return {
    async projectOf(repository) {
      const p = await project(projectOf(repository));
      if (!p?.proxy) return undefined;
      const config = p.proxy;
      const settings = JSON.stringify(config);
      const hit = clients.get(p.name);
      if (hit?.settings === settings) return hit.proxy;
      const name = p.name;
      const client = new UpstreamClient(config.upstream, async () => (config.credentials ? secrets.get(name) : undefined), { now, ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.fetchSeconds ? { timeoutMs: opts.fetchSeconds * 1000 } : {}) });
      const proxy = { name, config, client };
      clients.set(name, { settings, proxy });
      return proxy;
    },
    async upstreamOfWrite(repository) {
      const p = await project(projectOf(repository));
      return p?.proxy ? { project: p.name, upstream: p.proxy.upstream } : undefined;
    },
    async projectExists(name) {
      return (await project(name)) !== undefined;
    },
  };
}
