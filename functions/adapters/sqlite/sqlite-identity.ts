// IdentityStore on SQLite: its own database file (identity.db in the data dir), apart from the
// registry's metadata, so users, projects and robots have their own schema and backups.
import { DatabaseSync } from 'node:sqlite';
import { AlreadyExistsError, type IdentityStore } from '../../core/auth/identity-store.ts';
import type { AccessToken, TrustRule } from '../../core/auth/credential-store.ts';
import type { Project, Robot, Role, User } from '../../core/auth/model.ts';
import { inImmediateTransaction } from './sqlite-schema.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (name TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (project TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (project, user)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user, project);
CREATE TABLE IF NOT EXISTS robots (name TEXT PRIMARY KEY, project TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS robots_by_project ON robots (project, name);
CREATE TABLE IF NOT EXISTS trust_rules (project TEXT NOT NULL, id TEXT NOT NULL, issuer TEXT NOT NULL, repository_id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (project, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trust_rules_by_repository ON trust_rules (issuer, repository_id);
CREATE TABLE IF NOT EXISTS access_tokens (user TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (user, name)) WITHOUT ROWID;
`;

/** The identity database's file name in the data dir. */
export const IDENTITY_DB = 'identity.db';

/** The robots table's project column: '' for system robots. */
const SYSTEM = '';

export class SqliteIdentityStore implements IdentityStore {
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    // busy_timeout first: switching a new database to WAL needs a lock another process may hold (two
    // `npm start`s, or the admin CLI, opening a fresh data dir at once).
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;');
    // The schema in one write transaction taken up front (another process may create it at once).
    inImmediateTransaction(this.#db, () => this.#db.exec(SCHEMA));
  }

  close(): void {
    this.#db.close();
  }

  #put(table: 'users' | 'projects', name: string, doc: unknown, create: boolean): void {
    const sql = create ? `INSERT INTO ${table} (name, doc) VALUES (?, ?) ON CONFLICT DO NOTHING` : `INSERT OR REPLACE INTO ${table} (name, doc) VALUES (?, ?)`;
    const r = this.#db.prepare(sql).run(name, JSON.stringify(doc));
    if (create && r.changes === 0) throw new AlreadyExistsError(`${table === 'users' ? 'user' : 'project'} ${name} exists already`);
  }

  #get<T>(table: 'users' | 'projects' | 'robots', name: string): T | undefined {
    const row = this.#db.prepare(`SELECT doc FROM ${table} WHERE name = ?`).get(name) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : undefined;
  }

  #all<T>(sql: string, ...params: string[]): T[] {
    return (this.#db.prepare(sql).all(...params) as { doc: string }[]).map((r) => JSON.parse(r.doc) as T);
  }

  async getUser(name: string): Promise<User | undefined> {
    return this.#get<User>('users', name);
  }

  async putUser(user: User, opts: { create: boolean }): Promise<void> {
    this.#put('users', user.name, user, opts.create);
  }

  async listUsers(): Promise<User[]> {
    return this.#all<User>('SELECT doc FROM users ORDER BY name');
  }

  async getProject(name: string): Promise<Project | undefined> {
    return this.#get<Project>('projects', name);
  }

  async putProject(project: Project, opts: { create: boolean }): Promise<void> {
    this.#put('projects', project.name, project, opts.create);
  }

  async listProjects(): Promise<Project[]> {
    return this.#all<Project>('SELECT doc FROM projects ORDER BY name');
  }

  async getRole(project: string, user: string): Promise<Role | undefined> {
    const row = this.#db.prepare('SELECT role FROM members WHERE project = ? AND user = ?').get(project, user) as { role: Role } | undefined;
    return row?.role;
  }

  async setRole(project: string, user: string, role: Role | undefined): Promise<void> {
    if (role === undefined) this.#db.prepare('DELETE FROM members WHERE project = ? AND user = ?').run(project, user);
    else this.#db.prepare('INSERT OR REPLACE INTO members (project, user, role) VALUES (?, ?, ?)').run(project, user, role);
  }

  async listMembers(project: string): Promise<{ user: string; role: Role }[]> {
    return this.#db.prepare('SELECT user, role FROM members WHERE project = ? ORDER BY user').all(project) as { user: string; role: Role }[];
  }

  async rolesOf(user: string): Promise<{ project: string; role: Role }[]> {
    return this.#db.prepare('SELECT project, role FROM members WHERE user = ? ORDER BY project').all(user) as { project: string; role: Role }[];
  }

  async getRobot(name: string): Promise<Robot | undefined> {
    return this.#get<Robot>('robots', name);
  }

  async putRobot(robot: Robot, opts: { create: boolean }): Promise<void> {
    const sql = opts.create ? 'INSERT INTO robots (name, project, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING' : 'INSERT OR REPLACE INTO robots (name, project, doc) VALUES (?, ?, ?)';
    const r = this.#db.prepare(sql).run(robot.name, robot.project ?? SYSTEM, JSON.stringify(robot));
    if (opts.create && r.changes === 0) throw new AlreadyExistsError(`robot ${robot.name} exists already`);
  }

  async listRobots(project?: string): Promise<Robot[]> {
    return this.#all<Robot>('SELECT doc FROM robots WHERE project = ? ORDER BY name', project ?? SYSTEM);
  }

  async putTrustRule(rule: TrustRule): Promise<void> {
    const r = this.#db.prepare('INSERT INTO trust_rules (project, id, issuer, repository_id, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(rule.project, rule.id, rule.issuer, rule.repositoryId, JSON.stringify(rule));
    if (r.changes === 0) throw new AlreadyExistsError(`trust rule ${rule.project}/${rule.id} exists already`);
  }

  async getTrustRule(project: string, id: string): Promise<TrustRule | undefined> {
    return this.#all<TrustRule>('SELECT doc FROM trust_rules WHERE project = ? AND id = ?', project, id)[0];
  }

  async deleteTrustRule(project: string, id: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM trust_rules WHERE project = ? AND id = ?').run(project, id).changes > 0;
  }

  async listTrustRules(project: string): Promise<TrustRule[]> {
    return this.#all<TrustRule>('SELECT doc FROM trust_rules WHERE project = ? ORDER BY id', project);
  }

  async trustRulesFor(issuer: string, repositoryId: string): Promise<TrustRule[]> {
    return this.#all<TrustRule>('SELECT doc FROM trust_rules WHERE issuer = ? AND repository_id = ? ORDER BY project, id', issuer, repositoryId);
  }

  async putAccessToken(token: AccessToken, opts: { create: boolean }): Promise<void> {
    const sql = opts.create ? 'INSERT INTO access_tokens (user, name, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING' : 'INSERT OR REPLACE INTO access_tokens (user, name, doc) VALUES (?, ?, ?)';
    const r = this.#db.prepare(sql).run(token.user, token.name, JSON.stringify(token));
    if (opts.create && r.changes === 0) throw new AlreadyExistsError(`user ${token.user} has an access token ${token.name} already`);
  }

  async getAccessToken(user: string, name: string): Promise<AccessToken | undefined> {
    return this.#all<AccessToken>('SELECT doc FROM access_tokens WHERE user = ? AND name = ?', user, name)[0];
  }

  async listAccessTokens(user: string): Promise<AccessToken[]> {
    return this.#all<AccessToken>('SELECT doc FROM access_tokens WHERE user = ? ORDER BY name', user);
  }
}
