// Which projects are public, as the registry checks it per anonymous request: the project's item,
// kept in the process for a few seconds (a pull of one image asks it for every blob). A project
// made private is refused to anonymous pulls at most that much later (and the CDN is purged).
import type { IdentityStore } from './identity-store.ts';
import { projectOf } from './model.ts';
import type { PublicCheck } from './token-authorizer.ts';

export const PUBLIC_CHECK_SECONDS = 10;

export function publicProjects(store: IdentityStore, now: () => number = Date.now, ttlSeconds = PUBLIC_CHECK_SECONDS): PublicCheck {
  const seen = new Map<string, { isPublic: boolean; until: number }>();
  return async (repository) => {
    const name = projectOf(repository);
    const t = now();
    const hit = seen.get(name);
    if (hit && hit.until > t) return hit.isPublic;
    const isPublic = (await store.getProject(name))?.public === true;
    if (seen.size > 10_000) seen.clear();
    seen.set(name, { isPublic, until: t + ttlSeconds * 1000 });
    return isPublic;
  };
}
