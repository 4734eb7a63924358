// Administration of a project's retention policy (core/gc/retention.ts evaluates it): rules that
// remove tags, and protect patterns that keep tags whatever the rules say. Stored on the project, as
// its tag immutability rules are; what `npm run admin -- policy retention|protect` does.
import type { IdentityStore } from './identity-store.ts';
import type { Project, RetentionRule, TagRule } from './model.ts';
import { AdminError, checkTagRule } from './admin.ts';

/** Largest `keep` and number of days a rule may name. */
export const MAX_KEEP = 100_000;
export const MAX_DAYS = 36_500;

function whole(what: string, v: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new AdminError(`${what} must be a whole number from 1 to ${max}, got ${v}`);
  return v;
}

/** The rule as stored: its patterns checked against the project, exactly one limit, in range. */
export function checkRetentionRule(project: string, rule: RetentionRule): RetentionRule {
  const scope = checkTagRule(project, rule);
  const limits = (['keep', 'olderThanDays', 'notPulledDays'] as const).filter((k) => k in rule && (rule as unknown as Record<string, unknown>)[k] !== undefined);
  if (limits.length !== 1) throw new AdminError('a retention rule has exactly one of: keep N, older than D days, not pulled for D days');
  if ('keep' in rule) return { ...scope, keep: whole('keep', rule.keep, MAX_KEEP) };
  if ('olderThanDays' in rule) return { ...scope, olderThanDays: whole('days', rule.olderThanDays, MAX_DAYS) };
  return { ...scope, notPulledDays: whole('days', rule.notPulledDays, MAX_DAYS) };
}

/** `keep 5 of team/*:v*`, `team/*:pr-* older than 30 days`, `team/*:* not pulled for 90 days`. */
export function describeRetentionRule(r: RetentionRule): string {
  const scope = `${r.repositories}:${r.tags}`;
  if ('keep' in r) return `keep ${r.keep} of ${scope}`;
  if ('olderThanDays' in r) return `${scope} older than ${r.olderThanDays} days`;
  return `${scope} not pulled for ${r.notPulledDays} days`;
}

const sameRule = (a: RetentionRule, b: RetentionRule) => describeRetentionRule(a) === describeRetentionRule(b);
const sameScope = (a: TagRule, b: TagRule) => a.repositories === b.repositories && a.tags === b.tags;

/** A project's retention policy as shown to people (and the management API). */
export const retentionOf = (p: Project) => ({ project: p.name, retention: p.retention ?? [], retentionProtect: p.retentionProtect ?? [] });

type ListField = 'retention' | 'retentionProtect';

/** Adds `item` to a list field of the project (idempotent) or removes it (an error if absent); the project as stored. */
async function changeList<T extends TagRule>(store: IdentityStore, name: string, field: ListField, item: T, add: boolean, same: (a: T, b: T) => boolean, what: string): Promise<Project> {
  const project = await store.getProject(name);
  if (!project) throw new AdminError(`no project ${name}`);
  const list = (project[field] ?? []) as T[];
  if (add && list.some((x) => same(x, item))) return project;
  const left = add ? [...list, item] : list.filter((x) => !same(x, item));
  if (!add && left.length === list.length) throw new AdminError(`project ${name} has no ${what}`);
  const { [field]: _, ...rest } = project;
  const next: Project = left.length > 0 ? { ...rest, [field]: left } : rest;
  await store.putProject(next, { create: false });
  return next;
}

export async function addRetentionRule(store: IdentityStore, name: string, rule: RetentionRule): Promise<Project> {
  return changeList(store, name, 'retention', checkRetentionRule(name, rule), true, sameRule, '');
}

export async function removeRetentionRule(store: IdentityStore, name: string, rule: RetentionRule): Promise<Project> {
  return changeList(store, name, 'retention', rule, false, sameRule, `retention rule ${describeRetentionRule(rule)}`);
}

export async function addProtectRule(store: IdentityStore, name: string, rule: TagRule): Promise<Project> {
  return changeList(store, name, 'retentionProtect', checkTagRule(name, rule), true, sameScope, '');
}

export async function removeProtectRule(store: IdentityStore, name: string, rule: TagRule): Promise<Project> {
  return changeList(store, name, 'retentionProtect', rule, false, sameScope, `protect rule ${rule.repositories}:${rule.tags}`);
}
