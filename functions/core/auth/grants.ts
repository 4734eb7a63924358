// What an identity may do on a resource: the rights the token endpoint grants (intersected with what
// was asked; less than asked is not an error). Project visibility, membership roles, system admins
// and robots' own actions and repository patterns are all decided here.
import type { Action } from '../access.ts';
import type { IdentityStore } from './identity-store.ts';
import { isRobotName, matchesPattern, projectOf, ROLE_ACTIONS, type Robot, type User } from './model.ts';
import { expandActions, type RequestedAccess } from './scopes.ts';
import type { AccessToken } from './access-tokens.ts';
import { ruleActions, type TrustRule } from './trust-rules.ts';

export type Identity =
  | { kind: 'anonymous' }
  /** `accessToken`: signed in with a personal access token. */
  | { kind: 'user'; user: User; accessToken?: AccessToken }
  | { kind: 'robot'; robot: Robot }
  /** A CI job's ID token accepted by trust rules; `until` (epoch s): no refresh token outlives it. */
  | { kind: 'oidc'; subject: string; rules: TrustRule[]; until: number };

export interface Grant {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

export function subjectOf(who: Identity): string {
  if (who.kind === 'anonymous') return 'anonymous';
  if (who.kind === 'user') return who.user.name;
  return who.kind === 'robot' ? who.robot.name : who.subject;
}

/** What repositoryActions reads: a project and a member's role. */
type Lookups = Pick<IdentityStore, 'getProject' | 'getRole'>;

async function repositoryActions(store: Lookups, who: Identity, repository: string): Promise<Set<Action>> {
  const allowed = new Set<Action>();
  const project = await store.getProject(projectOf(repository));
  if (project?.public) allowed.add('pull');
  if (!project) return allowed;
  if (who.kind === 'user') {
    if (who.user.admin) for (const a of ROLE_ACTIONS.admin) allowed.add(a);
    const role = await store.getRole(project.name, who.user.name);
    if (role) for (const a of ROLE_ACTIONS[role]) allowed.add(a);
  } else if (who.kind === 'robot') {
    const r = who.robot;
    const inProject = r.project === undefined || r.project === project.name;
    const inRepos = r.repositories === undefined || r.repositories.some((p) => matchesPattern(p, repository));
    if (inProject && inRepos) for (const a of r.actions) allowed.add(a);
  } else if (who.kind === 'oidc') {
    for (const rule of who.rules) for (const a of ruleActions(rule, repository)) allowed.add(a);
  }
  return allowed;
}

/** The grants for `requested`: each scope with the actions both asked and allowed (scopes with none left out). */
export async function grantsFor(store: IdentityStore, who: Identity, requested: readonly RequestedAccess[]): Promise<Grant[]> {
  const out: Grant[] = [];
  for (const r of requested) {
    if (r.type === 'registry') {
      // The catalog: to signed-in users and robots, each seeing the repositories it may pull
      // (pullFilter; a system administrator sees every one). Not to anonymous callers or CI jobs.
      if (r.name === 'catalog' && (who.kind === 'user' || who.kind === 'robot') && r.actions.includes('*')) out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      // The management API (/api/v1/): any signed-in user or robot; each endpoint checks its own rights.
      if (r.name === 'management' && who.kind !== 'anonymous' && r.actions.includes('*')) out.push({ type: 'registry', name: 'management', actions: ['*'] });
      continue;
    }
    const allowed = await repositoryActions(store, who, r.name);
    const actions = expandActions(r.actions).filter((a) => allowed.has(a));
    if (actions.length > 0) out.push({ type: 'repository', name: r.name, actions });
  }
  return out;
}

/**
 * Whether `who` may pull each repository it is asked about, for a filtered listing (the catalog):
 * the same rules as grantsFor, with each project and role read once per filter.
 */
export function pullFilter(store: IdentityStore, who: Identity): (repository: string) => Promise<boolean> {
  const projects = new Map<string, ReturnType<IdentityStore['getProject']>>();
  const roles = new Map<string, ReturnType<IdentityStore['getRole']>>();
  const once = <T>(memo: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> => {
    let got = memo.get(key);
    if (!got) memo.set(key, (got = read()));
    return got;
  };
  const lookups: Lookups = {
    getProject: (name) => once(projects, name, () => store.getProject(name)),
    getRole: (project, user) => once(roles, `${project}\0${user}`, () => store.getRole(project, user)),
  };
  return async (repository) => (await repositoryActions(lookups, who, repository)).has('pull');
}

/**
 * The identity behind a token's subject, as it is now: undefined when the user is disabled or gone,
 * or the robot revoked, expired or gone (a token outlives none of these for what reads it here).
 */
export async function identityOfSubject(store: IdentityStore, subject: string, now: number): Promise<Identity | undefined> {
  if (isRobotName(subject)) {
    const robot = await store.getRobot(subject);
    return robot && !robot.revoked && (robot.expiresAt === null || robot.expiresAt > now) ? { kind: 'robot', robot } : undefined;
  }
  const user = await store.getUser(subject);
  return user && !user.disabled ? { kind: 'user', user } : undefined;
}
