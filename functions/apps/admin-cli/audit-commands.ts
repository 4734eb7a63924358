// `npm run admin -- audit list [--project P] [--since 24h|2026-12-01T00:00:00Z] [--limit N]`: the
// audit trail, newest first. Without --project, every project's entries and the registry-wide ones
// (logins, users), each partition read by key and time (no scan), merged.
import type { AuditEntry, AuditLog } from '../../core/audit.ts';
import { UsageError } from './command-args.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`30m`, `24h`, `7d`) or a date/time (ISO 8601). */
export function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,6})([mhd])$/.exec(text);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]!]!;
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--since ${JSON.stringify(text)}: a duration (30m, 24h, 7d) or a date/time (2026-12-01, 2026-12-01T08:00:00Z)`);
  return t;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT) throw new UsageError(`--limit ${JSON.stringify(text)}: a number from 1 to ${MAX_LIMIT}`);
  return n;
}

/** An entry as printed: the time as ISO 8601, no internal id. */
const shown = (e: AuditEntry) => ({
  time: new Date(e.time).toISOString(), action: e.action, actor: e.actor, address: e.address, project: e.project || null,
  ...(e.repository ? { repository: e.repository } : {}), ...(e.target ? { target: e.target } : {}), ...(e.detail ? { detail: e.detail } : {}),
});

export async function listAudit(audit: AuditLog, opts: { project?: string; since?: string; limit?: string }, now = Date.now()): Promise<{ entries: ReturnType<typeof shown>[] }> {
  const since = parseSince(opts.since, now);
  const limit = parseLimit(opts.limit);
  const projects = opts.project !== undefined ? [opts.project] : await audit.projects();
  const lists = await Promise.all(projects.map((project) => audit.list({ project, limit, ...(since !== undefined ? { since } : {}) })));
  const entries = lists.flat().sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  return { entries: entries.map(shown) };
}
