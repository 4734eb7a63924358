// Administration of users, projects, members and robots: what `npm run admin` (and later the
// management API) does, with the rules in one place. Secrets come in as arguments here; the entry
// points take them from stdin, never from argv.
import type { Action } from '../access.ts';
import { AlreadyExistsError, type IdentityStore } from './identity-store.ts';
import { checkProjectName, checkUserName, robotName, ROLES, type Project, type Robot, type Role, type TagRule, type User } from './model.ts';
import { publicProxy } from '../proxy/model.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, newSecret, secretHash } from './passwords.ts';

export class AdminError extends Error {}

const DAY_MS = 86_400_000;
export const DEFAULT_ROBOT_DAYS = 90;

function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AdminError(`the password is ${password.length} characters long: it must be at least ${MIN_PASSWORD_LENGTH}`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new AdminError(`the password is over ${MAX_PASSWORD_LENGTH} characters`);
  return password;
}

const wrap = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    throw new AdminError((e as Error).message);
  }
};

/** A user as shown to people: never the hash. */
export const publicUser = (u: User) => ({ name: u.name, admin: u.admin, disabled: u.disabled, created: new Date(u.created).toISOString() });
export const publicProject = (p: Project) => ({
  name: p.name, public: p.public, created: new Date(p.created).toISOString(), immutableTags: p.immutableTags ?? [], ...(p.proxy ? { proxy: publicProxy(p.proxy) } : {}),
});
export const publicRobot = (r: Robot) => ({
  name: r.name, project: r.project ?? null, actions: r.actions, repositories: r.repositories ?? null,
  expiresAt: r.expiresAt === null ? 'never' : new Date(r.expiresAt).toISOString(), revoked: r.revoked, created: new Date(r.created).toISOString(),
});

/** `password` undefined: a user who signs in elsewhere (no password here; personal access tokens). */
export async function addUser(store: IdentityStore, name: string, password: string | undefined, admin: boolean, now = Date.now()): Promise<User> {
  const passwordHash = password === undefined ? '' : await hashPassword(checkPassword(password));
  const user: User = { name: wrap(() => checkUserName(name)), passwordHash, admin, disabled: false, created: now };
  await store.putUser(user, { create: true });
  return user;
}

async function existingUser(store: IdentityStore, name: string): Promise<User> {
  const user = await store.getUser(name);
  if (!user) throw new AdminError(`no user ${name}`);
  return user;
}

export async function setPassword(store: IdentityStore, name: string, password: string): Promise<User> {
  const user = { ...(await existingUser(store, name)), passwordHash: await hashPassword(checkPassword(password)) };
  await store.putUser(user, { create: false });
  return user;
}

export async function setDisabled(store: IdentityStore, name: string, disabled: boolean): Promise<User> {
  const user = { ...(await existingUser(store, name)), disabled };
  await store.putUser(user, { create: false });
  return user;
}

/** `prepare`: what a kind of project adds (a proxy project's settings, after storing its secrets). */
export async function createProject(store: IdentityStore, name: string, isPublic: boolean, now = Date.now(), prepare?: (p: Project) => Promise<Project>): Promise<Project> {
  let project: Project = { name: wrap(() => checkProjectName(name)), public: isPublic, created: now };
  if (prepare) {
    if (await store.getProject(project.name)) throw new AlreadyExistsError(`project ${project.name} exists already`);
    project = await prepare(project);
  }
  await store.putProject(project, { create: true });
  return project;
}

async function existingProject(store: IdentityStore, name: string): Promise<Project> {
  const project = await store.getProject(name);
  if (!project) throw new AdminError(`no project ${name}`);
  return project;
}

export async function setVisibility(store: IdentityStore, name: string, isPublic: boolean): Promise<Project> {
  const project = { ...(await existingProject(store, name)), public: isPublic };
  await store.putProject(project, { create: false });
  return project;
}

/** A rule's repository pattern must stay inside the project: its name, then `/`, `*` or nothing. */
export function checkTagRule(project: string, rule: TagRule): TagRule {
  const rest = rule.repositories.startsWith(project) ? rule.repositories.slice(project.length) : undefined;
  if (rest === undefined || !(rest === '' || rest.startsWith('/') || rest.startsWith('*'))) {
    throw new AdminError(`the repository pattern ${JSON.stringify(rule.repositories)} is outside project ${project} (start it with "${project}/")`);
  }
  if (rule.tags === '') throw new AdminError('the tag pattern is empty');
  return { repositories: rule.repositories, tags: rule.tags };
}

/** Adds a tag immutability rule (idempotent); the project as stored. */
export async function addImmutableRule(store: IdentityStore, name: string, rule: TagRule): Promise<Project> {
  const project = await existingProject(store, name);
  const r = checkTagRule(name, rule);
  const rules = project.immutableTags ?? [];
  if (rules.some((x) => x.repositories === r.repositories && x.tags === r.tags)) return project;
  const next = { ...project, immutableTags: [...rules, r] };
  await store.putProject(next, { create: false });
  return next;
}

/** Removes a tag immutability rule; an error if the project has no such rule. */
export async function removeImmutableRule(store: IdentityStore, name: string, rule: TagRule): Promise<Project> {
  const project = await existingProject(store, name);
  const rules = project.immutableTags ?? [];
  const left = rules.filter((x) => !(x.repositories === rule.repositories && x.tags === rule.tags));
  if (left.length === rules.length) throw new AdminError(`project ${name} has no immutability rule ${rule.repositories}:${rule.tags}`);
  const { immutableTags: _, ...rest } = project;
  const next: Project = left.length > 0 ? { ...rest, immutableTags: left } : rest;
  await store.putProject(next, { create: false });
  return next;
}

export async function setMember(store: IdentityStore, project: string, user: string, role: string | undefined): Promise<{ project: string; user: string; role: Role | null }> {
  await existingProject(store, project);
  await existingUser(store, user);
  if (role !== undefined && !ROLES.includes(role as Role)) throw new AdminError(`unknown role ${JSON.stringify(role)}: one of ${ROLES.join(', ')}`);
  await store.setRole(project, user, role as Role | undefined);
  return { project, user, role: (role as Role | undefined) ?? null };
}

/** `90d`, `12h`, `never`. */
export function parseExpiry(text: string | undefined, now: number): number | null {
  if (text === undefined) return now + DEFAULT_ROBOT_DAYS * DAY_MS;
  if (text === 'never') return null;
  const m = /^(\d{1,5})([dh])$/.exec(text);
  if (!m) throw new AdminError(`--expires ${JSON.stringify(text)}: give a number of days or hours (90d, 12h) or "never"`);
  return now + Number(m[1]) * (m[2] === 'd' ? DAY_MS : 3_600_000);
}

export function parseActions(text: string): Action[] {
  const actions = text.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = actions.filter((a) => a !== 'pull' && a !== 'push' && a !== 'delete');
  if (actions.length === 0 || bad.length > 0) throw new AdminError(`--actions ${JSON.stringify(text)}: a comma-separated list of pull, push, delete`);
  return [...new Set(actions)] as Action[];
}

export interface NewRobot {
  robot: Robot;
  /** Shown once; only its hash is kept. */
  secret: string;
}

export async function createRobot(store: IdentityStore, project: string | undefined, name: string, opts: { actions: Action[]; repositories?: string[]; expires?: string }, now = Date.now()): Promise<NewRobot> {
  if (project !== undefined) await existingProject(store, project);
  const secret = newSecret();
  const robot: Robot = {
    name: wrap(() => robotName(project, name)),
    ...(project !== undefined ? { project } : {}),
    actions: opts.actions,
    ...(opts.repositories?.length ? { repositories: opts.repositories } : {}),
    secretHash: secretHash(secret),
    expiresAt: parseExpiry(opts.expires, now),
    revoked: false,
    created: now,
  };
  await store.putRobot(robot, { create: true });
  return { robot, secret };
}

async function existingRobot(store: IdentityStore, name: string): Promise<Robot> {
  const robot = await store.getRobot(name);
  if (!robot) throw new AdminError(`no robot ${name}`);
  return robot;
}

export async function rotateRobot(store: IdentityStore, name: string): Promise<NewRobot> {
  const secret = newSecret();
  const robot = { ...(await existingRobot(store, name)), secretHash: secretHash(secret) };
  await store.putRobot(robot, { create: false });
  return { robot, secret };
}

export async function revokeRobot(store: IdentityStore, name: string): Promise<Robot> {
  const robot = { ...(await existingRobot(store, name)), revoked: true };
  await store.putRobot(robot, { create: false });
  return robot;
}
