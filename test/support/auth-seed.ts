// The users and projects the token-auth e2e files start from: user `dev` (not an admin), a private
// project `team` and a public project `pub`, `dev` a developer (pull and push) of both.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_DB, SqliteIdentityStore } from '../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, setMember } from '../../functions/core/auth/admin.ts';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';
import { startRegistry, type RunningRegistry } from './registry.ts';

export const SEED_PASSWORD = 'correct horse battery staple';

export async function seedTeamAndPub(identity: IdentityStore, password = SEED_PASSWORD): Promise<void> {
  await addUser(identity, 'dev', password, false);
  await createProject(identity, 'team', false);
  await createProject(identity, 'pub', true);
  await setMember(identity, 'team', 'dev', 'developer');
  await setMember(identity, 'pub', 'dev', 'developer');
}

/** The token service a registry names in its `WWW-Authenticate` challenge. */
export const serviceOf = async (url: string): Promise<string> => /service="([^"]+)"/.exec((await fetch(`${url}/v2/`)).headers.get('www-authenticate') ?? '')![1]!;

/** The registry with token auth on, over a new data dir (under `prefix`) whose identity store `seed` fills first. */
export async function startSeededRegistry(prefix: string, seed: (identity: IdentityStore) => Promise<void>): Promise<{ dir: string; reg: RunningRegistry; service: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await seed(store);
  store.close();
  const reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  return { dir, reg, service: await serviceOf(reg.url) };
}
