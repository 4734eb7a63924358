// The options of `project create ... --proxy <upstream URL>`: a pull-through cache of that registry.
// The upstream password comes from stdin (--upstream-password-stdin), never from argv.
import { AdminError } from '../../core/auth/admin.ts';
import { createProxyProject } from '../../core/proxy/admin.ts';
import type { Project } from '../../core/auth/model.ts';
import { parseDuration } from '../../config/duration.ts';
import type { IdentityStore } from '../../core/auth/identity-store.ts';
import type { UpstreamSecrets } from '../../core/proxy/model.ts';

/** What of an admin command's invocation the proxy options need. */
export interface ProxyInvocation {
  options: Record<string, string | boolean | undefined>;
  readSecret: (what: string) => Promise<string>;
  store: IdentityStore;
  secrets: UpstreamSecrets;
}

export const PROXY_OPTIONS = {
  proxy: { type: 'string' },
  'upstream-user': { type: 'string' },
  'upstream-password-stdin': { type: 'boolean' },
  'upstream-namespace': { type: 'string' },
  'tag-ttl': { type: 'string' },
} as const;

export const PROXY_USAGE = '[--proxy <upstream URL> [--upstream-user U --upstream-password-stdin] [--upstream-namespace NS] [--tag-ttl 5m]]';

export async function createProxyFromOptions(inv: ProxyInvocation, name: string, isPublic: boolean): Promise<Project> {
  const o = inv.options;
  const user = typeof o['upstream-user'] === 'string' ? o['upstream-user'] : undefined;
  if ((user === undefined) !== (o['upstream-password-stdin'] !== true)) throw new AdminError('--upstream-user and --upstream-password-stdin go together (the password on stdin)');
  let tagTtlSeconds: number | undefined;
  if (typeof o['tag-ttl'] === 'string') {
    const ms = parseDuration(o['tag-ttl']);
    if (ms === undefined) throw new AdminError(`--tag-ttl ${JSON.stringify(o['tag-ttl'])} is not a duration (e.g. 5m, 1h, 30s, 0)`);
    tagTtlSeconds = Math.round(ms / 1000);
  }
  return createProxyProject(inv.store, inv.secrets, name, isPublic, {
    upstream: String(o.proxy),
    ...(user !== undefined ? { credentials: { username: user, password: await inv.readSecret('upstream password') } } : {}),
    ...(typeof o['upstream-namespace'] === 'string' ? { namespace: o['upstream-namespace'] } : {}),
    ...(tagTtlSeconds !== undefined ? { tagTtlSeconds } : {}),
  });
}
