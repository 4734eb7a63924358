// A project's members and their roles (the project's admins and system administrators).
import { emptyResponse, jsonResponse } from '../http.ts';
import { setMember } from '../auth/admin.ts';
import { ROLES } from '../auth/model.ts';
import type { Endpoint } from './router.ts';
import { invalid, listResponse, notFound, onlyFields, pageOf, pageParams, readJson, stringField } from './io.ts';
import { adminCall } from './admin-errors.ts';

export const memberEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/members', access: 'project-admin', summary: 'the members and their roles, a page at a time',
    async handle({ req, store, project }) {
      const page = pageParams(req);
      return listResponse(req, 'members', pageOf(await store.listMembers(project!.name), (m) => m.user, page), page.n, (m) => m.user);
    },
  },
  {
    method: 'PUT', path: '/projects/{project}/members/{user}', access: 'project-admin', summary: 'adds a member or changes its role: {role: guest|developer|maintainer|admin}',
    async handle({ req, store, project, path }) {
      const body = await readJson(req);
      onlyFields(body, ['role']);
      const role = stringField(body, 'role');
      if (!(ROLES as readonly string[]).includes(role)) throw invalid('role', `must be one of ${ROLES.join(', ')}`);
      if (!(await store.getUser(path.user!))) throw notFound('user', path.user!);
      return jsonResponse(200, await adminCall(() => setMember(store, project!.name, path.user!, role)));
    },
  },
  {
    method: 'DELETE', path: '/projects/{project}/members/{user}', access: 'project-admin', summary: 'removes a member',
    async handle({ store, project, path }) {
      if ((await store.getRole(project!.name, path.user!)) === undefined) throw notFound('member', path.user!);
      await adminCall(() => setMember(store, project!.name, path.user!, undefined));
      return emptyResponse(204);
    },
  },
];
