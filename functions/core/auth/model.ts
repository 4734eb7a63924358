// Who may do what: users, projects (the first path component of a repository name), members with a
// role, robot accounts. Rights are computed here and nowhere else (the token endpoint grants what
// `allowedActions` says; the registry only checks the token).
import type { Action } from '../access.ts';
import type { ProxyConfig } from '../proxy/model.ts';

export type Role = 'guest' | 'developer' | 'maintainer' | 'admin';
export const ROLES: readonly Role[] = ['guest', 'developer', 'maintainer', 'admin'];

/** What each role may do on its project's repositories (admin also manages members, robots, settings). */
export const ROLE_ACTIONS: Readonly<Record<Role, readonly Action[]>> = {
  guest: ['pull'],
  developer: ['pull', 'push'],
  maintainer: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete'],
};

export interface User {
  name: string;
  /** argon2id, PHC string format; '' for a user who signs in elsewhere (no password here). */
  passwordHash: string;
  /** A system administrator: every project, `_catalog`, user management. */
  admin: boolean;
  disabled: boolean;
  created: number;
}

export interface Project {
  name: string;
  /** Anyone, signed in or not, may pull. */
  public: boolean;
  created: number;
  /** Tags that, once they exist, never point at another manifest (core/tag-immutability.ts). */
  immutableTags?: TagRule[];
  /** Rules by which GC runs remove tags (core/gc/retention.ts). */
  retention?: RetentionRule[];
  /** Tags no retention rule ever removes. */
  retentionProtect?: TagRule[];
  /** Storage quota in bytes: pushes that would take the project's usage beyond it are refused (core/quota.ts). */
  quotaBytes?: number;
  /** A proxy project (pull-through cache) of this upstream (core/proxy); its content is fetched, never pushed. */
  proxy?: ProxyConfig;
}

/**
 * A retention rule: of the tags it covers (repositories and tags by pattern), remove those beyond the
 * `keep` most recently tagged ones per repository, those tagged more than `olderThanDays` ago, or
 * those not pulled for `notPulledDays` (a tag never pulled counts from when it was tagged). One of
 * the three per rule.
 */
export type RetentionRule = TagRule & ({ keep: number } | { olderThanDays: number } | { notPulledDays: number });

/** Repositories and tags a rule covers: IAM-style patterns (`*` any run of characters) on full names. */
export interface TagRule {
  repositories: string;
  tags: string;
}

export interface Robot {
  /** `robot$<project>+<name>`, or `robot$<name>` for a system robot. */
  name: string;
  /** The project it belongs to; undefined for a system robot (every project). */
  project?: string;
  actions: Action[];
  /** Repository name patterns (`*` any run of characters) it is limited to; undefined: all of its projects'. */
  repositories?: string[];
  /** sha256 of the secret, base64url: the secret is 32 random bytes, so no slow hash is needed. */
  secretHash: string;
  /** Epoch ms; null: never expires (shown as such). */
  expiresAt: number | null;
  revoked: boolean;
  created: number;
}

/** The first path component of a repository name. */
export const projectOf = (repository: string): string => repository.split('/')[0] ?? repository;

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const PROJECT_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;
const ROBOT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkUserName(name: string): string {
  if (!USER_NAME.test(name) || name === 'oidc' || name === 'anonymous') throw new Error(`invalid user name ${JSON.stringify(name)}: 1-64 of a-z 0-9 . _ -, starting with a letter or digit ("oidc" and "anonymous" are reserved)`);
  return name;
}

export function checkProjectName(name: string): string {
  if (!PROJECT_NAME.test(name) || name.length > 128) throw new Error(`invalid project name ${JSON.stringify(name)}: a repository path component (a-z 0-9, separated by . _ __ or -)`);
  return name;
}

export function robotName(project: string | undefined, name: string): string {
  if (!ROBOT_NAME.test(name)) throw new Error(`invalid robot name ${JSON.stringify(name)}: 1-64 of a-z 0-9 . _ -`);
  return project === undefined ? `robot$${name}` : `robot$${checkProjectName(project)}+${name}`;
}

export const isRobotName = (name: string): boolean => name.startsWith('robot$');

/** IAM-style pattern: `*` any run of characters. */
export function matchesPattern(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${re}$`, 's').test(value);
}
