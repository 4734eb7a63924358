// What the registry asks of proxy projects before a handler runs: dockerd's mirror paths mapped into
// the mirror project, and writes into a proxy project refused.
import { RegistryError } from '../errors.ts';
import { projectOf } from '../auth/model.ts';
import type { ProxyDeps } from './deps.ts';

/**
 * dockerd's `registry-mirrors` asks a mirror for `/v2/library/alpine/...`, without a project: a
 * read of a repository whose first component is no project goes to the mirror project
 * (`<mirror>/library/alpine`). Writes and names of existing projects are left as they are.
 */
export async function mirrorName(proxy: ProxyDeps, method: string, name: string): Promise<string> {
  if (!proxy.mirror || (method !== 'GET' && method !== 'HEAD')) return name;
  return (await proxy.projectExists(projectOf(name))) ? name : `${proxy.mirror}/${name}`;
}

/**
 * The requests that open a write into a repository: an upload's (or a mount's) POST and a manifest
 * PUT. An upload's PATCH and PUT continue a session only such a POST opened, so they are not asked
 * again; the project read behind it is kept 5 min per process (core/proxy/projects.ts).
 */
export const opensWrite = (resource: string, method: string): boolean => (resource === 'upload' && method === 'POST') || (resource === 'manifest' && method === 'PUT');

/** A push into a proxy project: 403 DENIED. Its content comes from the upstream only. */
export async function refuseProxyWrite(proxy: ProxyDeps, name: string): Promise<void> {
  const found = await proxy.upstreamOfWrite(name);
  if (found) {
    throw new RegistryError('DENIED', { project: found.project, upstream: found.upstream }, { message: `project ${found.project} is a pull-through cache of ${found.upstream}: push to the upstream, or to another project` });
  }
}
