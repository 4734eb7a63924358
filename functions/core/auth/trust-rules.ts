// Keyless CI: a project's trust rules say which OIDC ID tokens (GitHub Actions first) may be
// exchanged for registry tokens, and for what. A rule pins the issuer and GitHub's numeric
// `repository_owner_id` and `repository_id` (names can be taken again after a rename or a deleted
// account; the ids cannot), optionally patterns on `ref`, `environment` and `job_workflow_ref`, and
// refuses every pull-request event: GitHub documents no claim that tells a fork's pull request
// from a branch's, and a fork's code runs in those events (pull_request_target runs in the base
// repository's context with its claims). What the exchange grants: the rule's actions on its
// project's repositories (or the patterns given), for a refresh token that lives at most the rule's
// `maxSeconds`, never renewed past it.
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Action } from '../access.ts';
import { AdminError } from './admin.ts';
import type { IdentityStore } from './identity-store.ts';
import { checkProjectName, matchesPattern } from './model.ts';
import { GITHUB_ISSUER } from './oidc.ts';
import type { TrustRule } from './credential-store.ts';

export type { TrustRule };


export const DEFAULT_TRUST_SECONDS = 3600;
export const MAX_TRUST_SECONDS = 86_400;

/** `project/id`: how a refresh token names the rules it was made by. */
export const ruleKey = (r: Pick<TrustRule, 'project' | 'id'>): string => `${r.project}/${r.id}`;

const claim = (claims: JWTPayload, name: string): string | undefined => {
  const v = claims[name];
  return typeof v === 'string' ? v : undefined;
};

/** Why the rule does not accept these (verified) claims; undefined when it does. */
export function refusal(rule: TrustRule, claims: JWTPayload): string | undefined {
  if (claims.iss !== rule.issuer) return 'another issuer';
  if (claim(claims, 'repository_owner_id') !== rule.repositoryOwnerId) return 'another repository owner (repository_owner_id)';
  if (claim(claims, 'repository_id') !== rule.repositoryId) return 'another repository (repository_id)';
  const event = claim(claims, 'event_name');
  if (event === undefined) return 'no event_name claim';
  if (event.startsWith('pull_request')) return `a pull request event (${event}): refused, a fork's code may run in it`;
  const patterns: [keyof TrustRule, string][] = [['ref', 'ref'], ['environment', 'environment'], ['jobWorkflowRef', 'job_workflow_ref']];
  for (const [field, name] of patterns) {
    const pattern = rule[field] as string | undefined;
    if (pattern === undefined) continue;
    const value = claim(claims, name);
    if (value === undefined || !matchesPattern(pattern, value)) return `${name} ${JSON.stringify(value ?? null)} does not match ${JSON.stringify(pattern)}`;
  }
  return undefined;
}

/** The rules of the store that accept the claims. */
export async function matchingRules(store: IdentityStore, claims: JWTPayload & { iss: string }): Promise<TrustRule[]> {
  const repositoryId = claim(claims, 'repository_id');
  if (repositoryId === undefined) return [];
  return (await store.trustRulesFor(claims.iss, repositoryId)).filter((r) => refusal(r, claims) === undefined);
}

/** The actions a rule gives on a repository (none outside its project or patterns). */
export function ruleActions(rule: TrustRule, repository: string): readonly Action[] {
  const inProject = repository === rule.project || repository.startsWith(`${rule.project}/`);
  if (!inProject) return [];
  if (rule.repositories !== undefined && !rule.repositories.some((p) => matchesPattern(p, repository))) return [];
  return rule.actions;
}

/** A branch name given without `refs/` means that branch. */
const refPattern = (text: string): string => (text.startsWith('refs/') || text.startsWith('*') ? text : `refs/heads/${text}`);

const NUMERIC_ID = /^[1-9]\d{0,19}$/;

/** What `trust add` is given: the rule's patterns and grants, the GitHub repository and its ids. */
export type NewTrustRule = Pick<TrustRule, 'ref' | 'environment' | 'jobWorkflowRef' | 'actions' | 'repositories'> & {
  github: string;
  ownerId: string;
  repositoryId: string;
  maxSeconds?: number;
  issuer?: string;
};

export async function addTrustRule(store: IdentityStore, project: string, opts: NewTrustRule, now = Date.now()): Promise<TrustRule> {
  try {
    checkProjectName(project);
  } catch (e) {
    throw new AdminError((e as Error).message);
  }
  if (!(await store.getProject(project))) throw new AdminError(`no project ${project}`);
  if (!/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(opts.github)) throw new AdminError(`--github ${JSON.stringify(opts.github)}: give the repository as owner/name`);
  if (!NUMERIC_ID.test(opts.ownerId)) throw new AdminError(`--owner-id ${JSON.stringify(opts.ownerId)}: GitHub's numeric id of the owner (gh api repos/${opts.github} --jq .owner.id)`);
  if (!NUMERIC_ID.test(opts.repositoryId)) throw new AdminError(`--repository-id ${JSON.stringify(opts.repositoryId)}: GitHub's numeric id of the repository (gh api repos/${opts.github} --jq .id)`);
  const maxSeconds = opts.maxSeconds ?? DEFAULT_TRUST_SECONDS;
  if (!Number.isInteger(maxSeconds) || maxSeconds < 300 || maxSeconds > MAX_TRUST_SECONDS) throw new AdminError(`the token life must be from 5 minutes to ${MAX_TRUST_SECONDS / 3600} hours`);
  for (const p of opts.repositories ?? []) {
    if (!(p === project || p.startsWith(`${project}/`) || p.startsWith(`${project}*`))) throw new AdminError(`the repository pattern ${JSON.stringify(p)} is outside project ${project} (start it with "${project}/")`);
  }
  const rule: TrustRule = {
    id: randomBytes(6).toString('hex'),
    project,
    issuer: opts.issuer ?? GITHUB_ISSUER,
    repository: opts.github,
    repositoryOwnerId: opts.ownerId,
    repositoryId: opts.repositoryId,
    ...(opts.ref !== undefined ? { ref: refPattern(opts.ref) } : {}),
    ...(opts.environment !== undefined ? { environment: opts.environment } : {}),
    ...(opts.jobWorkflowRef !== undefined ? { jobWorkflowRef: opts.jobWorkflowRef } : {}),
    actions: opts.actions,
    ...(opts.repositories?.length ? { repositories: opts.repositories } : {}),
    maxSeconds,
    created: now,
  };
  await store.putTrustRule(rule);
  return rule;
}

export async function removeTrustRule(store: IdentityStore, project: string, id: string): Promise<{ project: string; id: string; removed: true }> {
  if (!(await store.deleteTrustRule(project, id))) throw new AdminError(`project ${project} has no trust rule ${id}`);
  return { project, id, removed: true };
}

export const publicTrustRule = (r: TrustRule) => ({
  id: r.id, project: r.project, issuer: r.issuer, github: r.repository, ownerId: r.repositoryOwnerId, repositoryId: r.repositoryId,
  ref: r.ref ?? null, environment: r.environment ?? null, jobWorkflowRef: r.jobWorkflowRef ?? null,
  actions: r.actions, repositories: r.repositories ?? null, maxSeconds: r.maxSeconds, created: new Date(r.created).toISOString(),
});
