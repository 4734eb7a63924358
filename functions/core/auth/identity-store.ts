// The port the identity model is kept behind (SQLite on `npm start`, DynamoDB in AWS).
import type { CredentialStore } from './credential-store.ts';
import type { Project, Robot, Role, User } from './model.ts';

/** A create of something that exists already. */
export class AlreadyExistsError extends Error {}

export interface IdentityStore extends CredentialStore {
  getUser(name: string): Promise<User | undefined>;
  /** `create`: fails with AlreadyExistsError when the user exists; else replaces it. */
  putUser(user: User, opts: { create: boolean }): Promise<void>;
  listUsers(): Promise<User[]>;

  getProject(name: string): Promise<Project | undefined>;
  putProject(project: Project, opts: { create: boolean }): Promise<void>;
  listProjects(): Promise<Project[]>;

  /** The user's role in the project, if a member. */
  getRole(project: string, user: string): Promise<Role | undefined>;
  /** Sets the role; undefined removes the membership. */
  setRole(project: string, user: string, role: Role | undefined): Promise<void>;
  listMembers(project: string): Promise<{ user: string; role: Role }[]>;
  /** Every project the user is a member of, with the role. */
  rolesOf(user: string): Promise<{ project: string; role: Role }[]>;

  getRobot(name: string): Promise<Robot | undefined>;
  putRobot(robot: Robot, opts: { create: boolean }): Promise<void>;
  /** A project's robots, or the system robots (project undefined). */
  listRobots(project?: string): Promise<Robot[]>;
}
