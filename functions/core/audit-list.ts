// Reading the audit trail as people see it (`npm run admin -- audit list`, the management API's
// /audit): entries newest first, each partition read by key and time (no scan), merged.
import type { AuditEntry, AuditLog } from './audit.ts';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 10_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration back from now (`30m`, `24h`, `7d`) or a date/time (ISO 8601), as epoch ms; NaN when it is neither. */
export function sinceTime(text: string, now: number): number {
  const m = /^(\d{1,6})([mhd])$/.exec(text);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]!]!;
  return /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
}

/** An entry as shown: the time as ISO 8601, no internal id. */
export const shownEntry = (e: AuditEntry) => ({
  time: new Date(e.time).toISOString(), action: e.action, actor: e.actor, address: e.address, project: e.project || null,
  ...(e.repository ? { repository: e.repository } : {}), ...(e.target ? { target: e.target } : {}), ...(e.detail ? { detail: e.detail } : {}),
});

/** The newest `limit` entries of `projects` ('' the registry-wide ones; undefined: every partition), at or after `since`. */
export async function listAuditEntries(audit: AuditLog, q: { projects?: string[]; since?: number; limit: number }): Promise<ReturnType<typeof shownEntry>[]> {
  const projects = q.projects ?? await audit.projects();
  const lists = await Promise.all(projects.map((project) => audit.list({ project, limit: q.limit, ...(q.since !== undefined ? { since: q.since } : {}) })));
  return lists.flat().sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, q.limit).map(shownEntry);
}
