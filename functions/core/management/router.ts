// The management API's own route table (everything under /api/v1/; the core route table sends the
// whole prefix here) and the one place its access rules are enforced: each endpoint declares who may
// call it, and the router checks that before the handler runs.
import type { HandlerContext, Operation } from '../context.ts';
import { RegistryError } from '../errors.ts';
import type { RegistryResponse } from '../http.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import { auditedIdentityStore } from '../auth/audited-admin.ts';
import type { Project } from '../auth/model.ts';
import { requireName } from '../grammar.ts';
import { administeredProject, callerOf, canPull, isSystemAdmin, visibleProject, type Caller } from './caller.ts';
import { denied, notFound } from './io.ts';

/**
 * Who may call an endpoint:
 * - `anyone`: signed in or not (the answer holds only what the caller may see);
 * - `signed-in`: a user or a robot; `user`: a user, not a robot;
 * - `user-self`: the user named by the path's `{user}`, or a system administrator (robots never);
 * - `system-admin`: a user who is a system administrator;
 * - `project-reader`: whoever may see the project (public, a member, a robot of it, a system admin);
 * - `project-admin`: the project's admins and system administrators;
 * - `repository-reader`: whoever may pull from the repository (anonymous on a public project).
 */
export type EndpointAccess = 'anyone' | 'signed-in' | 'user' | 'user-self' | 'system-admin' | 'project-reader' | 'project-admin' | 'repository-reader';

export interface ManagementContext extends HandlerContext {
  store: IdentityStore;
  caller: Caller;
  /** Path parameters by name (decoded). */
  path: Record<string, string>;
  /** The project of a `project-*` endpoint, as stored. */
  project?: Project;
}

export interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below /api/v1, e.g. `/projects/{project}/members/{user}`; `{repository+}` takes slashes. */
  path: string;
  access: EndpointAccess;
  summary: string;
  handle(ctx: ManagementContext): Promise<RegistryResponse>;
}

interface Compiled {
  endpoint: Endpoint;
  pattern: RegExp;
  keys: string[];
}

function compile(endpoint: Endpoint): Compiled {
  const keys: string[] = [];
  const source = endpoint.path.replace(/\{(\w+)(\+?)\}/g, (_, key: string, plus: string) => {
    keys.push(key);
    return plus ? '(.+)' : '([^/]+)';
  });
  return { endpoint, pattern: new RegExp(`^/api/v1${source}$`), keys };
}

const ALLOWS_ANONYMOUS = new Set<EndpointAccess>(['anyone', 'project-reader', 'repository-reader']);

async function check(ctx: ManagementContext, access: EndpointAccess): Promise<void> {
  const { caller, store, path } = ctx;
  if (caller.kind === 'anonymous' && !ALLOWS_ANONYMOUS.has(access)) throw new RegistryError('UNAUTHORIZED', { reason: 'sign in: a bearer token with the scope registry:management:*' });
  switch (access) {
    case 'anyone':
    case 'signed-in':
      return;
    case 'user':
      if (caller.kind !== 'user') throw denied('robots may not call this endpoint');
      return;
    case 'user-self':
      if (!isSystemAdmin(caller) && !(caller.kind === 'user' && caller.user.name === path.user)) throw denied('only the user and system administrators may call this endpoint');
      return;
    case 'system-admin':
      if (!isSystemAdmin(caller)) throw denied('this endpoint is for system administrators');
      return;
    case 'project-reader':
      ctx.project = await visibleProject(store, caller, path.project!);
      return;
    case 'project-admin':
      ctx.project = await administeredProject(store, caller, path.project!);
      return;
    case 'repository-reader':
      requireName(path.repository!);
      // Unknown and unreadable alike: a private repository's existence is not told to outsiders.
      if (!(await canPull(store, caller, path.repository!))) throw notFound('repository', path.repository!);
      return;
  }
}

/** The core Operation that serves every /api/v1/ path from `endpoints`. */
export function managementOperation(endpoints: readonly Endpoint[]): Operation {
  const table = endpoints.map(compile);
  return {
    access: () => [],
    // It authenticates by itself (callerOf), endpoint by endpoint; its answers are never shared-cacheable.
    public: true,
    async handle(base) {
      const auth = base.deps.auth;
      if (!auth) throw new RegistryError('UNSUPPORTED', { reason: 'authentication is not enabled on this registry, and with it the management API' }, { status: 404, message: 'no such endpoint' });
      const candidates = table.map((c) => ({ c, m: c.pattern.exec(base.req.path) })).filter((x) => x.m !== null);
      if (candidates.length === 0) throw new RegistryError('NOT_FOUND', { path: base.req.path.slice(0, 300) }, { message: 'no such endpoint' });
      const hit = candidates.find((x) => x.c.endpoint.method === base.req.method);
      if (!hit) {
        const allow = candidates.map((x) => x.c.endpoint.method).join(', ');
        throw new RegistryError('UNSUPPORTED', { method: base.req.method, allow }, { headers: { allow } });
      }
      const path: Record<string, string> = {};
      // The core router has decoded the whole path once already (a malformed one never gets here).
      hit.c.keys.forEach((k, i) => (path[k] = decodeURIComponent(hit.m![i + 1]!)));
      const { access } = hit.c.endpoint;
      const caller = await callerOf(base.req, base.deps, auth.store, ALLOWS_ANONYMOUS.has(access));
      // Every change made through the API is an audit entry under the caller's name (core/auth/audited-admin.ts).
      const actor = caller.kind === 'user' ? caller.user.name : caller.kind === 'robot' ? caller.robot.name : 'anonymous';
      const store = base.deps.audit ? auditedIdentityStore(auth.store, base.deps.audit, { actor, address: base.req.clientAddress ?? '' }) : auth.store;
      const ctx: ManagementContext = { ...base, store, caller, path };
      await check(ctx, access);
      return hit.c.endpoint.handle(ctx);
    },
  };
}
