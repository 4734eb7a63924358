// `npm run admin -- audit list [--project P] [--since 24h|2026-12-01T00:00:00Z] [--limit N]`: the
// audit trail, newest first. Without --project, every project's entries and the registry-wide ones
// (logins, users), each partition read by key and time (no scan), merged.
import type { AuditLog } from '../../core/audit.ts';
import { DEFAULT_AUDIT_LIMIT, listAuditEntries, MAX_AUDIT_LIMIT, sinceTime } from '../../core/audit-list.ts';
import { UsageError } from './command-args.ts';

/** `--since`: a duration back from now (`30m`, `24h`, `7d`) or a date/time (ISO 8601). */
export function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const t = sinceTime(text, now);
  if (Number.isNaN(t)) throw new UsageError(`--since ${JSON.stringify(text)}: a duration (30m, 24h, 7d) or a date/time (2026-12-01, 2026-12-01T08:00:00Z)`);
  return t;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_AUDIT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_AUDIT_LIMIT) throw new UsageError(`--limit ${JSON.stringify(text)}: a number from 1 to ${MAX_AUDIT_LIMIT}`);
  return n;
}

export async function listAudit(audit: AuditLog, opts: { project?: string; since?: string; limit?: string }, now = Date.now()): Promise<{ entries: Awaited<ReturnType<typeof listAuditEntries>> }> {
  const since = parseSince(opts.since, now);
  const limit = parseLimit(opts.limit);
  return { entries: await listAuditEntries(audit, { ...(opts.project !== undefined ? { projects: [opts.project] } : {}), ...(since !== undefined ? { since } : {}), limit }) };
}
