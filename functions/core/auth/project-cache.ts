// A project as the registry reads it per request: the project's item, kept in the process for a few
// seconds (a pull of one image asks for it for every blob). Settings changed by an admin apply at
// most that much later.
import type { IdentityStore } from './identity-store.ts';
import type { Project } from './model.ts';

export function cachedProjects(store: IdentityStore, now: () => number, ttlSeconds: number): (name: string) => Promise<Project | undefined> {
  const seen = new Map<string, { project: Project | undefined; until: number }>();
  return async (name) => {
    const t = now();
    const hit = seen.get(name);
    if (hit && hit.until > t) return hit.project;
    const project = await store.getProject(name);
    if (seen.size > 10_000) seen.clear();
    seen.set(name, { project, until: t + ttlSeconds * 1000 });
    return project;
  };
}
