// Users (system administrators only) and the caller's own identity.
import { jsonResponse } from '../http.ts';
import { addUser, publicRobot, publicUser, setDisabled, setPassword } from '../auth/admin.ts';
import type { Endpoint } from './router.ts';
import { boolField, listResponse, notFound, onlyFields, pageOf, pageParams, readJson, stringField } from './io.ts';
import { adminCall } from './admin-errors.ts';

export const userEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/whoami', access: 'signed-in', summary: 'the caller: user (with its projects and roles) or robot (with its project, actions and repositories)',
    async handle({ caller, store }) {
      if (caller.kind === 'robot') return jsonResponse(200, { kind: 'robot', ...publicRobot(caller.robot) });
      if (caller.kind !== 'user') throw notFound('user', 'anonymous');
      const projects = (await store.rolesOf(caller.user.name)).sort((a, b) => a.project.localeCompare(b.project));
      return jsonResponse(200, { kind: 'user', ...publicUser(caller.user), projects });
    },
  },
  {
    method: 'GET', path: '/users', access: 'system-admin', summary: 'users, a page at a time (?n=&last=)',
    async handle({ req, store }) {
      const page = pageParams(req);
      return listResponse(req, 'users', pageOf((await store.listUsers()).map(publicUser), (u) => u.name, page), page.n, (u) => u.name);
    },
  },
  {
    method: 'POST', path: '/users', access: 'system-admin', summary: 'creates a user: {name, password, admin?}',
    async handle({ req, store, deps }) {
      const body = await readJson(req);
      onlyFields(body, ['name', 'password', 'admin']);
      const name = stringField(body, 'name');
      const password = stringField(body, 'password');
      const admin = boolField(body, 'admin') ?? false;
      return jsonResponse(201, publicUser(await adminCall(() => addUser(store, name, password, admin, deps.now()))));
    },
  },
  {
    method: 'PATCH', path: '/users/{user}', access: 'system-admin', summary: 'sets a password or disables/enables a user: {password?, disabled?}',
    async handle({ req, store, path }) {
      const body = await readJson(req);
      onlyFields(body, ['password', 'disabled']);
      const password = stringField(body, 'password', true);
      const disabled = boolField(body, 'disabled');
      if (!(await store.getUser(path.user!))) throw notFound('user', path.user!);
      let user = password === undefined ? undefined : await adminCall(() => setPassword(store, path.user!, password));
      if (disabled !== undefined) user = await adminCall(() => setDisabled(store, path.user!, disabled));
      return jsonResponse(200, publicUser(user ?? (await store.getUser(path.user!))!));
    },
  },
];
