// Creating a proxy project (`npm run admin -- project create <name> --proxy <upstream URL> ...`):
// the upstream's credentials go to UpstreamSecrets first, then the project records only that there
// are some. Nothing here returns or prints a credential.
import { AdminError, createProject } from '../auth/admin.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import type { Project } from '../auth/model.ts';
import { checkNamespace, checkUpstreamUrl, DEFAULT_TAG_TTL_SECONDS, type ProxyConfig, type UpstreamCredentials, type UpstreamSecrets } from './model.ts';

export interface ProxyOptions {
  upstream: string;
  credentials?: UpstreamCredentials;
  namespace?: string;
  tagTtlSeconds?: number;
}

const asAdminError = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    throw new AdminError((e as Error).message);
  }
};

export async function createProxyProject(store: IdentityStore, secrets: UpstreamSecrets, name: string, isPublic: boolean, opts: ProxyOptions): Promise<Project> {
  const proxy: ProxyConfig = {
    upstream: asAdminError(() => checkUpstreamUrl(opts.upstream)),
    tagTtlSeconds: opts.tagTtlSeconds ?? DEFAULT_TAG_TTL_SECONDS,
    credentials: opts.credentials !== undefined,
  };
  if (opts.namespace !== undefined) proxy.namespace = asAdminError(() => checkNamespace(opts.namespace!));
  if (!Number.isSafeInteger(proxy.tagTtlSeconds) || proxy.tagTtlSeconds < 0) throw new AdminError('the tag TTL must be a whole number of seconds, 0 or more');
  if (opts.credentials && !opts.credentials.username) throw new AdminError('the upstream user name is empty');
  return createProject(store, name, isPublic, Date.now(), async (project) => {
    if (opts.credentials) await secrets.put(project.name, opts.credentials);
    return { ...project, proxy };
  });
}
