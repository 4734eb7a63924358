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

/** The methods of a push (uploads, manifest PUTs, mounts). */
export const isWrite = (method: string): boolean => method === 'POST' || method === 'PUT' || method === 'PATCH';

/** A push into a proxy project: 403 DENIED. Its content comes from the upstream only. */
export async function refuseProxyWrite(proxy: ProxyDeps, name: string): Promise<void> {
  const project = await proxy.projectOf(name);
  if (project) {
    throw new RegistryError('DENIED', { project: project.name, upstream: project.config.upstream }, { message: `project ${project.name} is a pull-through cache of ${project.config.upstream}: push to the upstream, or to another project` });
  }
}
