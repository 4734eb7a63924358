// The SQLite audit log's retention: entries older than it are gone once the file is opened again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteAuditLog } from '../../../functions/adapters/sqlite/sqlite-audit.ts';
import { auditId } from '../../../functions/core/audit.ts';

it('entries past the retention are deleted when the log is opened; younger ones stay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sqlite-audit-'));
  try {
    const now = Date.parse('2026-12-05T00:00:00Z');
    const day = 86_400_000;
    const first = new SqliteAuditLog(join(dir, 'audit.db'), { retentionDays: 30, now: () => now });
    for (const age of [31, 29, 1]) await first.append({ id: auditId(now - age * day), time: now - age * day, action: 'login', actor: 'a', address: '', project: '' });
    first.close();
    const again = new SqliteAuditLog(join(dir, 'audit.db'), { retentionDays: 30, now: () => now });
    expect((await again.list({ project: '', limit: 10 })).map((e) => Math.round((now - e.time) / day))).toEqual([1, 29]);
    again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
