// The AuditLog port's contract: SQLite (npm start, the admin CLI) and DynamoDB (AWS) both run it.
// Entries by project, newest first, from a time on, at most a limit; the projects with entries.
import { describe, expect, it } from 'vitest';
import { auditId, type AuditEntry, type AuditLog } from '../../functions/core/audit.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');

function entry(project: string, time: number, action: AuditEntry['action'] = 'push', extra: Partial<AuditEntry> = {}): AuditEntry {
  return { id: auditId(time), time, action, actor: 'alice', address: '192.0.2.1', project, ...(project ? { repository: `${project}/app` } : {}), target: 'v1', ...extra };
}

export function auditLogContract(name: string, open: () => Promise<{ log: AuditLog; close: () => Promise<void> }>): void {
  describe(`AuditLog contract: ${name}`, () => {
    it('keeps each entry whole, lists a project newest first, apart from other projects and the registry-wide ones', async () => {
      const { log, close } = await open();
      try {
        const a1 = entry('team', T0, 'push', { detail: { digest: 'sha256:ab', tags: 'v1,v2' } });
        const a2 = entry('team', T0 + 1000, 'tag.delete');
        const b1 = entry('other', T0 + 500, 'blob.mount', { detail: { from: 'team/app' } });
        const sys = entry('', T0 + 200, 'login', { detail: { scope: 'repository:team/app:pull' } });
        for (const e of [a1, b1, sys, a2]) await log.append(e);
        expect(await log.list({ project: 'team', limit: 10 })).toEqual([a2, a1]);
        expect(await log.list({ project: 'other', limit: 10 })).toEqual([b1]);
        expect(await log.list({ project: '', limit: 10 })).toEqual([sys]);
        expect(await log.list({ project: 'none', limit: 10 })).toEqual([]);
        expect((await log.projects()).sort()).toEqual(['', 'other', 'team']);
      } finally {
        await close();
      }
    });

    it('--since keeps entries at or after the time; the limit keeps the newest; entries of one millisecond stay apart', async () => {
      const { log, close } = await open();
      try {
        const all = Array.from({ length: 30 }, (_, i) => entry('busy', T0 + Math.floor(i / 3) * 60_000));
        await Promise.all(all.map((e) => log.append(e)));
        const newestFirst = [...all].reverse();
        expect(await log.list({ project: 'busy', limit: 100 })).toEqual(newestFirst);
        expect(await log.list({ project: 'busy', limit: 4 })).toEqual(newestFirst.slice(0, 4));
        expect(await log.list({ project: 'busy', since: T0 + 8 * 60_000, limit: 100 })).toEqual(newestFirst.slice(0, 6));
        expect(await log.list({ project: 'busy', since: T0 + 8 * 60_000 + 1, limit: 100 })).toEqual(newestFirst.slice(0, 3));
      } finally {
        await close();
      }
    });
  });
}
