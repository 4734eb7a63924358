// What every `npm run admin` command receives, and the helpers that read its arguments.
import type { IdentityStore } from '../../core/auth/identity-store.ts';
import type { ProjectUsage } from '../../core/quota-ports.ts';
import type { AuditLog } from '../../core/audit.ts';
import type { UpstreamSecrets } from '../../core/proxy/model.ts';

export interface Invocation {
  args: string[];
  options: Record<string, string | boolean | undefined>;
  readSecret: (what: string) => Promise<string>;
  store: IdentityStore;
  /** The audit trail (`audit list`). */
  audit?: AuditLog;
  /** Where proxy projects' upstream credentials go: the data dir, or with --aws Secrets Manager. */
  secrets: UpstreamSecrets;
  /** With --aws: purges paths from the deployment's CDN; the distribution id it purged. */
  purgeCdn?: (paths: readonly string[]) => Promise<string>;
  /** A project's storage usage (the registry's metadata: registry.db, or the table). */
  usage?: (project: string) => Promise<ProjectUsage>;
}

export type Command = (inv: Invocation) => Promise<unknown>;

export function arg(inv: Invocation, i: number, what: string): string {
  const v = inv.args[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

/** A command line the admin CLI cannot run (exit 64 with the command's usage). */
export class UsageError extends Error {}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
