// What every `npm run admin` command is given, and the small helpers they read it with.
import type { IdentityStore } from '../../core/auth/identity-store.ts';

export interface Invocation {
  args: string[];
  options: Record<string, string | boolean | undefined>;
  readSecret: (what: string) => Promise<string>;
  store: IdentityStore;
  /** With --aws: purges paths from the deployment's CDN; the distribution id it purged. */
  purgeCdn?: (paths: readonly string[]) => Promise<string>;
}

export type Command = (inv: Invocation) => Promise<unknown>;

export function arg(inv: Invocation, i: number, what: string): string {
  const v = inv.args[i];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

export class UsageError extends Error {}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

