// Projects: the list the caller may see, one project, creation (system administrators), visibility
// and tag immutability rules (the project's admins).
import { jsonResponse, emptyResponse } from '../http.ts';
import { repositoryPaths } from '../shared-cache.ts';
import { addImmutableRule, createProject, publicProject, removeImmutableRule, setVisibility } from '../auth/admin.ts';
import type { Project } from '../auth/model.ts';
import { quotaOf } from '../auth/quota-admin.ts';
import type { Endpoint } from './router.ts';
import { isSystemAdmin, roleIn } from './caller.ts';
import { boolField, invalid, listResponse, onlyFields, pageOf, pageParams, readJson, stringField } from './io.ts';
import { adminCall } from './admin-errors.ts';

const ruleOf = (body: Record<string, unknown>) => {
  onlyFields(body, ['repositories', 'tags']);
  return { repositories: stringField(body, 'repositories'), tags: stringField(body, 'tags') };
};

export const projectEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects', access: 'anyone', summary: 'the projects the caller may see (anonymous: the public ones), each with the caller\'s role, a page at a time',
    async handle({ req, store, caller }) {
      const page = pageParams(req);
      const roles = new Map(caller.kind === 'user' ? (await store.rolesOf(caller.user.name)).map((r) => [r.project, r.role] as const) : []);
      const sees = (p: Project): boolean => p.public || isSystemAdmin(caller) || roles.has(p.name)
        || (caller.kind === 'robot' && caller.robot.actions.includes('pull') && (caller.robot.project === undefined || caller.robot.project === p.name));
      const visible = (await store.listProjects()).filter(sees).map((p) => ({ ...publicProject(p), role: isSystemAdmin(caller) ? 'admin' : (roles.get(p.name) ?? null) }));
      return listResponse(req, 'projects', pageOf(visible, (p) => p.name, page), page.n, (p) => p.name);
    },
  },
  {
    method: 'POST', path: '/projects', access: 'system-admin', summary: 'creates a project: {name, public?}',
    async handle({ req, store, deps }) {
      const body = await readJson(req);
      onlyFields(body, ['name', 'public']);
      const name = stringField(body, 'name');
      const isPublic = boolField(body, 'public') ?? false;
      return jsonResponse(201, publicProject(await adminCall(() => createProject(store, name, isPublic, deps.now()))));
    },
  },
  {
    method: 'GET', path: '/projects/{project}', access: 'project-reader', summary: 'one project, with the caller\'s role in it; for its admins also its storage quota and usage (quotaBytes, usedBytes, blobs)',
    async handle({ project, store, caller, deps }) {
      const role = (await roleIn(store, caller, project!.name)) ?? null;
      const { project: _, ...storage } = role === 'admin' ? quotaOf(project!, await deps.metadata.projectUsage(project!.name)) : { project: '' };
      return jsonResponse(200, { ...publicProject(project!), role, ...storage });
    },
  },
  {
    method: 'PATCH', path: '/projects/{project}', access: 'project-admin', summary: 'sets the visibility: {public}; the CDN forgets what it kept of the project',
    async handle({ req, store, project, deps }) {
      const body = await readJson(req);
      onlyFields(body, ['public']);
      const isPublic = boolField(body, 'public');
      if (isPublic === undefined) throw invalid('public', 'is required');
      const next = await adminCall(() => setVisibility(store, project!.name, isPublic));
      // What a shared cache kept of the project's public answers goes (a day at most otherwise).
      if (project!.public && !isPublic) await deps.sharedCache?.purge(req, repositoryPaths(`${project!.name}`));
      return jsonResponse(200, publicProject(next));
    },
  },
  {
    method: 'POST', path: '/projects/{project}/immutable-rules', access: 'project-admin', summary: 'adds a tag immutability rule: {repositories, tags} (patterns, `*` any run)',
    async handle({ req, store, project }) {
      const next = await adminCall(async () => addImmutableRule(store, project!.name, ruleOf(await readJson(req))));
      return jsonResponse(200, { project: next.name, immutableTags: next.immutableTags ?? [] });
    },
  },
  {
    method: 'DELETE', path: '/projects/{project}/immutable-rules', access: 'project-admin', summary: 'removes a tag immutability rule named by ?repositories=&tags=',
    async handle({ req, store, project }) {
      const rule = ruleOf({ repositories: req.query.get('repositories') ?? undefined, tags: req.query.get('tags') ?? undefined });
      await adminCall(() => removeImmutableRule(store, project!.name, rule));
      return emptyResponse(204);
    },
  },
];
