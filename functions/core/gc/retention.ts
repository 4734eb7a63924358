// Retention: a project's rules (Project.retention) remove tags, evaluated by each GC run per
// repository before its mark phase. A removal is the tag DELETE of the API (MetadataStore.deleteTag),
// conditioned on the tag being exactly as the run read it, so a push that moved or re-created the
// tag, or a pull recorded, after the decision keeps it; the manifest it pointed at is then untagged
// and the run's mark and a later run's sweep free what only it held. Protect patterns keep a tag
// whatever the rules say (and it does not count towards a rule's `keep`). Pure: no store call here.
// docs/gc.md, "Retention".
import type { IdentityStore } from '../auth/identity-store.ts';
import { matchesPattern, projectOf, type RetentionRule, type TagRule } from '../auth/model.ts';
import { cachedProjects } from '../auth/project-cache.ts';
import { describeRetentionRule } from '../auth/retention-admin.ts';
import type { TagState } from '../ports.ts';
import { DAY_MS, dayText, startOfDay } from '../pulls.ts';

export interface RetentionPolicy {
  rules: RetentionRule[];
  protect: TagRule[];
}

/** The retention policy of a repository (its project's); undefined when it has none. */
export type RetentionPolicies = (repository: string) => Promise<RetentionPolicy | undefined>;

/** Projects are read once per GC run at most every this many seconds. */
const POLICY_SECONDS = 60;

export function projectRetention(store: IdentityStore, now: () => number = Date.now): RetentionPolicies {
  const project = cachedProjects(store, now, POLICY_SECONDS);
  return async (repository) => {
    const p = await project(projectOf(repository));
    return p?.retention?.length ? { rules: p.retention, protect: p.retentionProtect ?? [] } : undefined;
  };
}

export interface RetentionRemoval {
  tag: string;
  /** The tag as read: the delete applies only while it is still so. */
  seen: TagState;
  /** The rule that removes it (describeRetentionRule). */
  rule: string;
  reason: string;
}

/**
 * When a tag was last used, for "not pulled for D days": its last recorded pull, counted from the end
 * of that UTC day (only the day's first pull is recorded), or when it was tagged if later or never pulled.
 */
const lastUse = (t: TagState): number => Math.max(t.taggedAt, t.pulledAt === undefined ? 0 : startOfDay(t.pulledAt) + DAY_MS);

function unusedReason(t: TagState, days: number): string {
  return t.pulledAt === undefined || t.pulledAt < t.taggedAt
    ? `never pulled since tagged ${dayText(t.taggedAt)}, over ${days} days ago`
    : `not pulled since ${dayText(t.pulledAt)}, over ${days} days ago`;
}

/** Newest first by tag time; the tag name breaks ties (a stable order for equal times). */
const newestFirst = (a: [string, TagState], b: [string, TagState]) => b[1].taggedAt - a[1].taggedAt || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The tags of `repo` that the policy removes at `now`, each with the first rule that removes it and why. */
export function planRetention(repo: string, tags: ReadonlyMap<string, TagState>, policy: RetentionPolicy, now: number): RetentionRemoval[] {
  const candidates = [...tags].filter(([tag]) => !policy.protect.some((p) => matchesPattern(p.repositories, repo) && matchesPattern(p.tags, tag)));
  const removed = new Map<string, RetentionRemoval>();
  for (const rule of policy.rules) {
    if (!matchesPattern(rule.repositories, repo)) continue;
    const covered = candidates.filter(([tag]) => matchesPattern(rule.tags, tag));
    const name = describeRetentionRule(rule);
    const remove = (tag: string, seen: TagState, reason: string) => {
      if (!removed.has(tag)) removed.set(tag, { tag, seen, rule: name, reason });
    };
    if ('keep' in rule) {
      covered.sort(newestFirst).slice(rule.keep).forEach(([tag, seen], i) =>
        remove(tag, seen, `not among the ${rule.keep} most recent tags matching ${rule.tags} (number ${rule.keep + i + 1}, tagged ${dayText(seen.taggedAt)})`));
    } else if ('olderThanDays' in rule) {
      const cutoff = now - rule.olderThanDays * DAY_MS;
      for (const [tag, seen] of covered) if (seen.taggedAt < cutoff) remove(tag, seen, `tagged ${dayText(seen.taggedAt)}, over ${rule.olderThanDays} days ago`);
    } else {
      const cutoff = now - rule.notPulledDays * DAY_MS;
      for (const [tag, seen] of covered) if (lastUse(seen) < cutoff) remove(tag, seen, unusedReason(seen, rule.notPulledDays));
    }
  }
  return [...removed.values()];
}
