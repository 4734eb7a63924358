// Proxy projects (pull-through cache): a project bound to an upstream registry. A pull of
// `<project>/<repo>` that misses is fetched from `<upstream>/<namespace>/<repo>`, verified against its
// digest, stored as ordinary content of the project and served from storage from then on.

/** What a project stores of its upstream. The credentials live apart (UpstreamSecrets), never here. */
export interface ProxyConfig {
  /** The upstream registry's base URL (scheme and host[:port]), e.g. https://registry-1.docker.io. */
  upstream: string;
  /** Prefixed to the repository path upstream (`<namespace>/<repo>`); undefined: none. */
  namespace?: string;
  /** A tag is revalidated with the upstream (one HEAD) when its last check is older than this. */
  tagTtlSeconds: number;
  /** Whether credentials for the upstream are stored (UpstreamSecrets). */
  credentials: boolean;
}

export interface UpstreamCredentials {
  username: string;
  password: string;
}

/** Where upstream credentials are kept: the data dir (embedded) or Secrets Manager (AWS). */
export interface UpstreamSecrets {
  get(project: string): Promise<UpstreamCredentials | undefined>;
  put(project: string, credentials: UpstreamCredentials): Promise<void>;
  delete(project: string): Promise<void>;
}

export const DEFAULT_TAG_TTL_SECONDS = 300;

const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** An upstream URL as stored: origin only, http(s), no credentials. Throws with a message a person can act on. */
export function checkUpstreamUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`upstream ${JSON.stringify(text)} is not a URL (e.g. https://registry-1.docker.io)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the upstream URL must be http(s)');
  if (url.username || url.password) throw new Error('put no credentials in the upstream URL: use --upstream-user and --upstream-password-stdin');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new Error('the upstream URL is a registry origin (scheme, host, port), without path or query');
  // Docker Hub's API answers at registry-1.docker.io only.
  return DOCKER_HUB_HOSTS.has(url.hostname) ? 'https://registry-1.docker.io' : url.origin;
}

const NAMESPACE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

export function checkNamespace(text: string): string {
  if (!NAMESPACE.test(text)) throw new Error(`upstream namespace ${JSON.stringify(text)} is not a repository path`);
  return text;
}

/**
 * The upstream repository of `<project>/<rest>`: `<namespace>/<rest>`; on Docker Hub a one-component
 * name is an official image (`alpine` -> `library/alpine`), as docker itself maps it.
 */
export function upstreamRepository(config: ProxyConfig, repository: string): string {
  const rest = repository.slice(repository.indexOf('/') + 1);
  if (config.namespace) return `${config.namespace}/${rest}`;
  if (config.upstream === 'https://registry-1.docker.io' && !rest.includes('/')) return `library/${rest}`;
  return rest;
}

/** A proxy project's settings as shown to people: whether credentials are stored, never what they are. */
export const publicProxy = (p: ProxyConfig) => ({ upstream: p.upstream, namespace: p.namespace ?? null, tagTtlSeconds: p.tagTtlSeconds, credentials: p.credentials ? 'stored' : 'none' });
