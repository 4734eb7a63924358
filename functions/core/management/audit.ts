// The audit trail over the management API, as `npm run admin -- audit list`: a project's entries for
// its admins; the registry-wide ones (logins, users, system robots) and any project's for system
// administrators. `?since=` a duration (30m, 24h, 7d) or a date/time, `?n=` at most this many
// (1-1000, default 100), newest first.
import { RegistryError } from '../errors.ts';
import { jsonResponse, type RegistryResponse } from '../http.ts';
import { listAuditEntries, sinceTime } from '../audit-list.ts';
import type { Endpoint, ManagementContext } from './router.ts';
import { invalid, pageParams } from './io.ts';

async function entries(ctx: ManagementContext, projects: string[] | undefined): Promise<RegistryResponse> {
  const audit = ctx.deps.audit?.store;
  if (!audit) throw new RegistryError('UNSUPPORTED', { reason: 'this registry keeps no audit trail' }, { status: 404, message: 'no such endpoint' });
  const { n } = pageParams(ctx.req);
  const text = ctx.req.query.get('since');
  const since = text === null ? undefined : sinceTime(text, ctx.deps.now());
  if (since !== undefined && Number.isNaN(since)) throw invalid('since', 'a duration (30m, 24h, 7d) or a date/time (2026-12-01, 2026-12-01T08:00:00Z)');
  return jsonResponse(200, { entries: await listAuditEntries(audit, { ...(projects ? { projects } : {}), ...(since !== undefined ? { since } : {}), limit: n }) });
}

export const auditEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/audit', access: 'project-admin', summary: 'the project\'s audit entries, newest first (?since=24h|<date>, ?n=)',
    handle: (ctx) => entries(ctx, [ctx.project!.name]),
  },
  {
    method: 'GET', path: '/audit', access: 'system-admin', summary: 'audit entries, newest first: every project\'s and the registry-wide ones, or ?project= one (\'\' the registry-wide ones) (?since=, ?n=)',
    handle: (ctx) => {
      const project = ctx.req.query.get('project');
      return entries(ctx, project === null ? undefined : [project]);
    },
  },
];
