// The audit trail of `npm start` (SQLite, audit.db in the data dir; a JSON log line each): the
// contract every backend runs (test/contract/audit-trail.contract.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { AUDIT_DB, SqliteAuditLog } from '../../../functions/adapters/sqlite/sqlite-audit.ts';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { auditTrailContract } from '../../contract/audit-trail.contract.ts';
import { startRegistry } from '../../support/registry.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

auditTrailContract('npm start (SQLite)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'audit-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // The admin side as the CLI opens it: the data dir's own files, beside the running server.
  const identity = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  const audit = new SqliteAuditLog(join(dir, AUDIT_DB));
  cleanups.push(() => identity.close(), () => audit.close());
  const reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  cleanups.push(() => reg.stop());
  return {
    url: reg.url, identity, audit,
    async settle() {
      await reg.stop();
      return reg.logs.filter((l) => l.startsWith('{'));
    },
  };
});
