// Who calls the management API, and what they may do. The caller presents a registry access token
// (from the token endpoint, with the scope `registry:management:*`) as `Authorization: Bearer`;
// the token is verified by the registry's own authorizer (its keys, its cache, its challenge). The
// token only says who: what that identity may do is read from the identity store on each call, so a
// disabled user, a revoked robot or a changed role counts at once, not when the token expires.
import type { Access } from '../access.ts';
import { RegistryError } from '../errors.ts';
import { header, type RegistryRequest } from '../http.ts';
import type { RegistryDeps } from '../context.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import { grantsFor, identityOfSubject, type Identity } from '../auth/grants.ts';
import type { Role } from '../auth/model.ts';
import { denied, notFound } from './io.ts';

export const MANAGEMENT_ACCESS: Access = { type: 'registry', name: 'management', actions: ['*'] };
export const MANAGEMENT_SCOPE = 'registry:management:*';

export type Caller = Identity;

/** The caller of `req`; anonymous only when the request carries no Authorization at all and `anonymous` is allowed. */
export async function callerOf(req: RegistryRequest, deps: RegistryDeps, store: IdentityStore, anonymous: boolean): Promise<Caller> {
  if (anonymous && header(req, 'authorization') === undefined) return { kind: 'anonymous' };
  const decision = await deps.authorizer.authorize(req, [MANAGEMENT_ACCESS]);
  if (!decision.allowed) {
    throw new RegistryError(decision.status === 401 ? 'UNAUTHORIZED' : 'DENIED', decision.detail, { headers: decision.challenge ? { 'www-authenticate': decision.challenge } : {} });
  }
  const who = await identityOfSubject(store, decision.principal.subject, deps.now());
  if (who) return who;
  throw new RegistryError('UNAUTHORIZED', { reason: 'the account of this token is disabled, revoked, expired or gone' });
}

export const isSystemAdmin = (c: Caller): boolean => c.kind === 'user' && c.user.admin;

/** The caller's role in the project (a system administrator's is admin everywhere). */
export async function roleIn(store: IdentityStore, c: Caller, project: string): Promise<Role | undefined> {
  if (c.kind !== 'user') return undefined;
  if (c.user.admin) return 'admin';
  return store.getRole(project, c.user.name);
}

/** Whether the caller may pull from the repository (visibility, role, robot actions and patterns: grants.ts). */
export async function canPull(store: IdentityStore, c: Caller, repository: string): Promise<boolean> {
  return (await grantsFor(store, c, [{ type: 'repository', name: repository, actions: ['pull'] }])).length > 0;
}

/** Whether the caller may see the project at all: public, a member, a system admin, or a robot of it. */
export async function canSeeProject(store: IdentityStore, c: Caller, project: { name: string; public: boolean }): Promise<boolean> {
  if (project.public || isSystemAdmin(c)) return true;
  if (c.kind === 'user') return (await store.getRole(project.name, c.user.name)) !== undefined;
  if (c.kind === 'robot') return c.robot.actions.includes('pull') && (c.robot.project === undefined || c.robot.project === project.name);
  return false;
}

/** The project, if the caller may see it; else 404 (a private project's existence is not told to outsiders). */
export async function visibleProject(store: IdentityStore, c: Caller, name: string) {
  const project = await store.getProject(name);
  if (!project || !(await canSeeProject(store, c, project))) throw notFound('project', name);
  return project;
}

/** The project, if the caller administers it (its admin role or a system admin); 403 to any other signed-in caller. */
export async function administeredProject(store: IdentityStore, c: Caller, name: string) {
  const project = await store.getProject(name);
  if (!project) throw notFound('project', name);
  if ((await roleIn(store, c, name)) !== 'admin') throw denied(`managing project ${name} needs its admin role or a system administrator`);
  return project;
}
