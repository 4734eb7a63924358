// Which projects are public, as the registry checks it per anonymous request: the project's item,
// kept in the process for a few seconds (a pull of one image asks it for every blob). A project
// made private is refused to anonymous pulls at most that much later (and the CDN is purged).
import type { IdentityStore } from './identity-store.ts';
import { projectOf } from './model.ts';
import { cachedProjects } from './project-cache.ts';
import type { PublicCheck } from './token-authorizer.ts';

export const PUBLIC_CHECK_SECONDS = 10;

export function publicProjects(store: IdentityStore, now: () => number = Date.now, ttlSeconds = PUBLIC_CHECK_SECONDS): PublicCheck {
  const project = cachedProjects(store, now, ttlSeconds);
  return async (repository) => (await project(projectOf(repository)))?.public === true;
}
