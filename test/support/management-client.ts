// What the management API scenarios (management-scenario.ts, quota-scenario.ts,
// repository-summary-scenario.ts) share: the users and projects they start from, and a small client:
// tokens from the token endpoint, calls to /api/v1/, and the check of a refusal's status and OCI error.
import { expect } from 'vitest';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';
import { addUser, createProject, createRobot, setMember } from '../../functions/core/auth/admin.ts';
import { serviceOf } from './auth-seed.ts';

export const PASSWORD = 'correct horse battery staple';
export const MANAGEMENT = 'registry:management:*';

export interface Target {
  url: string;
}

export type Auth = Record<string, string>;

/** Users, projects and a robot, made straight in the store before the registry serves them. */
export async function seedIdentities(store: IdentityStore): Promise<{ robotSecret: string }> {
  await addUser(store, 'root', PASSWORD, true);
  for (const u of ['alice', 'bob', 'carol', 'dana']) await addUser(store, u, PASSWORD, false);
  await createProject(store, 'team', false);
  await createProject(store, 'pub', true);
  await createProject(store, 'other', false);
  await setMember(store, 'team', 'alice', 'admin');
  await setMember(store, 'team', 'bob', 'guest');
  await setMember(store, 'other', 'carol', 'admin');
  await setMember(store, 'team', 'dana', 'developer');
  const { secret } = await createRobot(store, 'team', 'ci', { actions: ['pull', 'push'] });
  return { robotSecret: secret };
}

export interface ErrorBody { errors: { code: string; message: string; detail: unknown }[] }

// The answers' shapes are what the cases assert; typed loosely to read them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Answer { status: number; body: any; headers: Headers }

/** A refusal: its status and OCI error code, with a message and a detail. */
export function refused(r: { status: number; body: ErrorBody }, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.errors[0]!.code).toBe(code);
  expect(typeof r.body.errors[0]!.message).toBe('string');
  expect(r.body.errors[0]).toHaveProperty('detail');
}

export interface ManagementClient {
  /** The token service of the registry's challenge: read by init() (in a beforeAll). */
  readonly service: string;
  init(): Promise<void>;
  token(name: string, password?: string, scope?: string): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for `name` (the management scope unless `scope`). */
  bearer(name: string, password?: string, scope?: string): Promise<Auth>;
  call(method: string, path: string, auth?: Auth, body?: unknown): Promise<Answer>;
}

export function managementClient(target: () => Target): ManagementClient {
  let service = '';
  const token = async (name: string, password = PASSWORD, scope = MANAGEMENT): Promise<string> => {
    const r = await fetch(`${target().url}/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, {
      headers: { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` },
    });
    expect(r.status, `token for ${name}`).toBe(200);
    return ((await r.json()) as { token: string }).token;
  };
  return {
    get service() {
      return service;
    },
    async init() {
      service = await serviceOf(target().url);
    },
    token,
    bearer: async (name, password = PASSWORD, scope = MANAGEMENT) => ({ authorization: `Bearer ${await token(name, password, scope)}` }),
    async call(method, path, auth = {}, body) {
      const init: RequestInit = { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const r = await fetch(`${target().url}/api/v1${path}`, init);
      const text = await r.text();
      return { status: r.status, body: text === '' ? undefined : JSON.parse(text), headers: r.headers };
    },
  };
}
