// Admin changes in the audit trail: the identity store as every administrator's caller gets it (the
// `npm run admin` CLI, the management API), each write an entry named for the change it makes
// (`admin.user.add`, `admin.robot.rotate`, `admin.trust.add`, `admin.token.revoke`, ...), with who and from where. The change is read off the
// write against the record the same caller read just before (every admin.ts function reads first),
// so no extra read is made. Writes that are no admin change (a password rehash at login) go through
// the plain store and are not recorded. No hash or secret is ever in an entry.
import type { AuditDetail, AuditRecorder } from '../audit.ts';
import type { TrustRule } from './credential-store.ts';
import type { IdentityStore } from './identity-store.ts';
import type { Project, Robot, Role, User } from './model.ts';

export interface AdminActor {
  /** A user name, or for the CLI `cli:<os user>`. */
  actor: string;
  /** Where the change came from: the client address, or the CLI's host. */
  address: string;
}

type Change = { action: string; detail?: AuditDetail };

function userChange(before: User | undefined, after: User, create: boolean): Change {
  if (create || !before) return { action: 'user.add', detail: { admin: after.admin } };
  if (before.disabled !== after.disabled) return { action: after.disabled ? 'user.disable' : 'user.enable' };
  if (before.admin !== after.admin) return { action: 'user.admin', detail: { admin: after.admin } };
  if (before.passwordHash !== after.passwordHash) return { action: 'user.passwd' };
  return { action: 'user.update' };
}

function projectChange(before: Project | undefined, after: Project, create: boolean): Change {
  if (create || !before) return { action: 'project.create', detail: { public: after.public } };
  if (before.public !== after.public) return { action: 'project.visibility', detail: { public: after.public } };
  const rules = JSON.stringify(after.immutableTags ?? []);
  if (JSON.stringify(before.immutableTags ?? []) !== rules) return { action: 'policy.immutable', detail: { immutableTags: rules } };
  const retention = JSON.stringify(after.retention ?? []);
  if (JSON.stringify(before.retention ?? []) !== retention) return { action: 'policy.retention', detail: { retention } };
  const protect = JSON.stringify(after.retentionProtect ?? []);
  if (JSON.stringify(before.retentionProtect ?? []) !== protect) return { action: 'policy.protect', detail: { retentionProtect: protect } };
  if (before.quotaBytes !== after.quotaBytes) return { action: 'policy.quota', detail: { quotaBytes: after.quotaBytes ?? 'none' } };
  return { action: 'project.update' };
}

function robotChange(before: Robot | undefined, after: Robot, create: boolean): Change {
  const expiresAt = after.expiresAt === null ? 'never' : new Date(after.expiresAt).toISOString();
  if (create || !before) {
    return { action: 'robot.create', detail: { actions: after.actions.join(','), expiresAt, ...(after.repositories ? { repositories: after.repositories.join(',') } : {}) } };
  }
  if (before.revoked !== after.revoked) return { action: after.revoked ? 'robot.revoke' : 'robot.restore' };
  if (before.secretHash !== after.secretHash) return { action: 'robot.rotate', detail: { expiresAt } };
  return { action: 'robot.update' };
}

/** What a trust rule lets in, for its entry (ids and patterns; nothing secret). */
function trustDetail(r: TrustRule): AuditDetail {
  return {
    issuer: r.issuer, repository: r.repository, ownerId: r.repositoryOwnerId, repositoryId: r.repositoryId, actions: r.actions.join(','), maxSeconds: r.maxSeconds,
    ...(r.ref !== undefined ? { ref: r.ref } : {}), ...(r.environment !== undefined ? { environment: r.environment } : {}),
    ...(r.jobWorkflowRef !== undefined ? { jobWorkflowRef: r.jobWorkflowRef } : {}), ...(r.repositories ? { repositories: r.repositories.join(',') } : {}),
  };
}

/** `store` with every admin write recorded in `audit` as done by `who`. */
export function auditedIdentityStore(store: IdentityStore, audit: AuditRecorder, who: AdminActor): IdentityStore {
  const read = new Map<string, unknown>();
  const record = (c: Change, project: string, target: string) => audit.record({ ...who, action: `admin.${c.action}`, project, target, ...(c.detail ? { detail: c.detail } : {}) });
  const remember = <T>(key: string, value: T): T => {
    read.set(key, value);
    return value;
  };
  const hooks: Partial<IdentityStore> = {
    getUser: async (name) => remember(`u:${name}`, await store.getUser(name)),
    getProject: async (name) => remember(`p:${name}`, await store.getProject(name)),
    getRobot: async (name) => remember(`r:${name}`, await store.getRobot(name)),
    async putUser(user, opts) {
      await store.putUser(user, opts);
      await record(userChange(read.get(`u:${user.name}`) as User | undefined, user, opts.create), '', user.name);
      read.set(`u:${user.name}`, user);
    },
    async putProject(project, opts) {
      await store.putProject(project, opts);
      await record(projectChange(read.get(`p:${project.name}`) as Project | undefined, project, opts.create), project.name, project.name);
      read.set(`p:${project.name}`, project);
    },
    async putRobot(robot, opts) {
      await store.putRobot(robot, opts);
      await record(robotChange(read.get(`r:${robot.name}`) as Robot | undefined, robot, opts.create), robot.project ?? '', robot.name);
      read.set(`r:${robot.name}`, robot);
    },
    async setRole(project: string, user: string, role: Role | undefined) {
      await store.setRole(project, user, role);
      await record(role === undefined ? { action: 'member.remove' } : { action: 'member.set', detail: { role } }, project, user);
    },
    async putTrustRule(rule) {
      await store.putTrustRule(rule);
      await record({ action: 'trust.add', detail: trustDetail(rule) }, rule.project, rule.id);
    },
    async deleteTrustRule(project, id) {
      const deleted = await store.deleteTrustRule(project, id);
      if (deleted) await record({ action: 'trust.remove' }, project, id);
      return deleted;
    },
    async putAccessToken(token, opts) {
      await store.putAccessToken(token, opts);
      const expiresAt = token.expiresAt === null ? 'never' : new Date(token.expiresAt).toISOString();
      // A user's own token: registry-wide, named `<user>/<token name>`.
      await record(opts.create ? { action: 'token.create', detail: { expiresAt } } : { action: token.revoked ? 'token.revoke' : 'token.update' }, '', `${token.user}/${token.name}`);
    },
  };
  // Every other method (reads, and whatever the port gains later) is the store's own.
  return new Proxy(store, {
    get(target, prop) {
      if (Object.hasOwn(hooks, prop)) return hooks[prop as keyof IdentityStore];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
