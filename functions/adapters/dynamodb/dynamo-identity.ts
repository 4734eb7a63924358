// IdentityStore on the registry's DynamoDB table. Items (every read consistent: a change made with
// `npm run admin` counts at the next token request):
//
//   pk                          sk          item
//   ID#USER                     <name>      user (name, argon2id hash, admin, disabled)
//   ID#PROJECT                  <name>      project (visibility)
//   ID#MEMBER#<project>         <user>      role of a member
//   ID#ROLES#<user>             <project>   the same role, by user (written in the same transaction)
//   ID#ROBOT#<project or ->     <name>      robot (actions, patterns, secret hash, expiry)
//   ID#TRUST#<project>          <id>        OIDC trust rule
//   ID#TRUSTBY#<iss>#<repo id>  <project>#<id>  the same rule, by the repository it trusts (same transaction):
//                                           one Query finds the rules an ID token may match
//   ID#PAT#<user>               <name>      personal access token (secret hash, expiry)
//
// Lists (users, projects, members, robots) are one key-ordered Query each: administration only, never
// on a request's path.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError, type IdentityStore } from '../../core/auth/identity-store.ts';
import type { AccessToken, TrustRule } from '../../core/auth/credential-store.ts';
import type { Project, Robot, Role, User } from '../../core/auth/model.ts';

const USERS = 'ID#USER';
const PROJECTS = 'ID#PROJECT';
const members = (project: string) => `ID#MEMBER#${project}`;
const roles = (user: string) => `ID#ROLES#${user}`;
const robots = (project: string | undefined) => `ID#ROBOT#${project ?? '-'}`;
const trust = (project: string) => `ID#TRUST#${project}`;
const trustBy = (issuer: string, repositoryId: string) => `ID#TRUSTBY#${issuer}#${repositoryId}`;
const tokens = (user: string) => `ID#PAT#${user}`;
/** `robot$<project>+<name>` belongs to <project>; `robot$<name>` is a system robot. */
const projectOfRobot = (name: string): string | undefined => (name.includes('+') ? name.slice('robot$'.length, name.indexOf('+')) : undefined);

export class DynamoIdentityStore implements IdentityStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, table: string) {
    this.#doc = doc;
    this.#table = table;
  }

  async #get<T>(pk: string, sk: string): Promise<T | undefined> {
    const out = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true }));
    return out.Item ? (out.Item.doc as T) : undefined;
  }

  async #put(pk: string, sk: string, doc: unknown, create: boolean, what: string): Promise<void> {
    try {
      await this.#doc.send(new PutCommand({
        TableName: this.#table,
        Item: { pk, sk, doc },
        ...(create ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
      }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new AlreadyExistsError(`${what} exists already`);
      throw e;
    }
  }

  async #query(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#doc.send(new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  getUser(name: string): Promise<User | undefined> {
    return this.#get<User>(USERS, name);
  }

  putUser(user: User, opts: { create: boolean }): Promise<void> {
    return this.#put(USERS, user.name, user, opts.create, `user ${user.name}`);
  }

  async listUsers(): Promise<User[]> {
    return (await this.#query(USERS)).map((i) => i.doc as User);
  }

  getProject(name: string): Promise<Project | undefined> {
    return this.#get<Project>(PROJECTS, name);
  }

  putProject(project: Project, opts: { create: boolean }): Promise<void> {
    return this.#put(PROJECTS, project.name, project, opts.create, `project ${project.name}`);
  }

  async listProjects(): Promise<Project[]> {
    return (await this.#query(PROJECTS)).map((i) => i.doc as Project);
  }

  getRole(project: string, user: string): Promise<Role | undefined> {
    return this.#get<Role>(members(project), user);
  }

  async setRole(project: string, user: string, role: Role | undefined): Promise<void> {
    const TableName = this.#table;
    const items = role === undefined
      ? [{ Delete: { TableName, Key: { pk: members(project), sk: user } } }, { Delete: { TableName, Key: { pk: roles(user), sk: project } } }]
      : [{ Put: { TableName, Item: { pk: members(project), sk: user, doc: role } } }, { Put: { TableName, Item: { pk: roles(user), sk: project, doc: role } } }];
    await this.#doc.send(new TransactWriteCommand({ TransactItems: items }));
  }

  async listMembers(project: string): Promise<{ user: string; role: Role }[]> {
    return (await this.#query(members(project))).map((i) => ({ user: String(i.sk), role: i.doc as Role }));
  }

  async rolesOf(user: string): Promise<{ project: string; role: Role }[]> {
    return (await this.#query(roles(user))).map((i) => ({ project: String(i.sk), role: i.doc as Role }));
  }

  getRobot(name: string): Promise<Robot | undefined> {
    return this.#get<Robot>(robots(projectOfRobot(name)), name);
  }

  putRobot(robot: Robot, opts: { create: boolean }): Promise<void> {
    return this.#put(robots(robot.project), robot.name, robot, opts.create, `robot ${robot.name}`);
  }

  async listRobots(project?: string): Promise<Robot[]> {
    return (await this.#query(robots(project))).map((i) => i.doc as Robot);
  }

  async putTrustRule(rule: TrustRule): Promise<void> {
    const TableName = this.#table;
    try {
      await this.#doc.send(new TransactWriteCommand({ TransactItems: [
        { Put: { TableName, Item: { pk: trust(rule.project), sk: rule.id, doc: rule }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName, Item: { pk: trustBy(rule.issuer, rule.repositoryId), sk: `${rule.project}#${rule.id}`, doc: rule } } },
      ] }));
    } catch (e) {
      if (e instanceof TransactionCanceledException) throw new AlreadyExistsError(`trust rule ${rule.project}/${rule.id} exists already`);
      throw e;
    }
  }

  getTrustRule(project: string, id: string): Promise<TrustRule | undefined> {
    return this.#get<TrustRule>(trust(project), id);
  }

  async deleteTrustRule(project: string, id: string): Promise<boolean> {
    const rule = await this.getTrustRule(project, id);
    if (!rule) return false;
    const TableName = this.#table;
    try {
      await this.#doc.send(new TransactWriteCommand({ TransactItems: [
        { Delete: { TableName, Key: { pk: trust(project), sk: id }, ConditionExpression: 'attribute_exists(pk)' } },
        { Delete: { TableName, Key: { pk: trustBy(rule.issuer, rule.repositoryId), sk: `${project}#${id}` } } },
      ] }));
      return true;
    } catch (e) {
      if (e instanceof TransactionCanceledException) return false;
      throw e;
    }
  }

  async listTrustRules(project: string): Promise<TrustRule[]> {
    return (await this.#query(trust(project))).map((i) => i.doc as TrustRule);
  }

  async trustRulesFor(issuer: string, repositoryId: string): Promise<TrustRule[]> {
    return (await this.#query(trustBy(issuer, repositoryId))).map((i) => i.doc as TrustRule);
  }

  putAccessToken(token: AccessToken, opts: { create: boolean }): Promise<void> {
    return this.#put(tokens(token.user), token.name, token, opts.create, `access token ${token.name} of ${token.user}`);
  }

  getAccessToken(user: string, name: string): Promise<AccessToken | undefined> {
    return this.#get<AccessToken>(tokens(user), name);
  }

  async listAccessTokens(user: string): Promise<AccessToken[]> {
    return (await this.#query(tokens(user))).map((i) => i.doc as AccessToken);
  }
}
