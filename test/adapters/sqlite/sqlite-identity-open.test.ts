// identity.db opened by several processes at once on a fresh data dir (two `npm start`s, or the admin
// CLI beside one): every one opens it. In one of three `npm test` runs on a loaded machine, one of two
// `npm start`s on a fresh data dir exited with "database is locked"; the open now sets busy_timeout
// before the switch to WAL and creates the schema in a BEGIN IMMEDIATE transaction. This test did not
// reproduce that failure on an idle machine: it guards the concurrent open, not that exact race.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';

const MODULE = join(import.meta.dirname, '..', '..', '..', 'functions', 'adapters', 'sqlite', 'sqlite-identity.ts');

function openIn(path: string): Promise<{ code: number | null; err: string }> {
  const script = `const { SqliteIdentityStore } = await import(${JSON.stringify(MODULE)}); const s = new SqliteIdentityStore(${JSON.stringify(path)}); await s.listUsers(); s.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, err })));
}

describe('SqliteIdentityStore: several processes opening a fresh database at once', () => {
  it('all open it (5 rounds of 4 processes)', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'identity-open-'));
    try {
      for (let round = 0; round < 5; round++) {
        const path = join(dir, `identity-${round}.db`);
        const results = await Promise.all(Array.from({ length: 4 }, () => openIn(path)));
        for (const r of results) expect(r.code, r.err).toBe(0);
        const store = new SqliteIdentityStore(path);
        expect(await store.listUsers()).toEqual([]);
        store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
