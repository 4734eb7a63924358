// The users and projects the token-auth e2e files start from: user `dev` (not an admin), a private
// project `team` and a public project `pub`, `dev` a developer (pull and push) of both.
import { addUser, createProject, setMember } from '../../functions/core/auth/admin.ts';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';

export const SEED_PASSWORD = 'correct horse battery staple';

export async function seedTeamAndPub(identity: IdentityStore, password = SEED_PASSWORD): Promise<void> {
  await addUser(identity, 'dev', password, false);
  await createProject(identity, 'team', false);
  await createProject(identity, 'pub', true);
  await setMember(identity, 'team', 'dev', 'developer');
  await setMember(identity, 'pub', 'dev', 'developer');
}
