// The management API on `npm start` (SQLite identities and metadata), auth on: the shared cases of
// test/support/management-scenario.ts.
import { afterAll, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { managementScenario, seedIdentities } from '../../support/management-scenario.ts';

let dir: string;
let reg: RunningRegistry;
let seeded: { robotSecret: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'management-api-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  seeded = await seedIdentities(store);
  store.close();
  reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

managementScenario(() => reg, () => seeded);
