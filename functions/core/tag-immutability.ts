// Tag immutability: a project's rules (Project.immutableTags) name repositories and tags, by pattern,
// whose tags never move once they exist. A manifest PUT over such a tag with another digest is refused
// (403 DENIED, the detail names the rule); the same digest again is accepted. The rules are read per
// project and kept in the process for a few seconds, so a new rule applies at most that much later;
// the check itself is in the metadata store's atomic write (PutManifestOptions.immutable).
import type { IdentityStore } from './auth/identity-store.ts';
import { matchesPattern, projectOf, type TagRule } from './auth/model.ts';
import { cachedProjects } from './auth/project-cache.ts';

export const TAG_RULES_SECONDS = 10;

/** The immutability rules that apply to a repository (its project's). */
export type TagRules = (repository: string) => Promise<TagRule[]>;

export function projectTagRules(store: IdentityStore, now: () => number = Date.now, ttlSeconds = TAG_RULES_SECONDS): TagRules {
  const project = cachedProjects(store, now, ttlSeconds);
  return async (repository) => (await project(projectOf(repository)))?.immutableTags ?? [];
}

/** The first rule that makes `repository:tag` immutable, if any. */
export function immutableBy(rules: readonly TagRule[], repository: string, tag: string): TagRule | undefined {
  return rules.find((r) => matchesPattern(r.repositories, repository) && matchesPattern(r.tags, tag));
}

export const describeRule = (r: TagRule): string => `${r.repositories}:${r.tags}`;
