// A project's OIDC trust rules (keyless CI: docs/auth.md, "Keyless CI") for its admins, as
// `npm run admin -- trust add|list|remove`. Rules hold ids and patterns, nothing secret.
import { emptyResponse, jsonResponse } from '../http.ts';
import { parseActions } from '../auth/admin.ts';
import { addTrustRule, MAX_TRUST_SECONDS, publicTrustRule, removeTrustRule } from '../auth/trust-rules.ts';
import type { Endpoint } from './router.ts';
import { invalid, listResponse, notFound, onlyFields, pageOf, pageParams, readJson, stringField, stringListField } from './io.ts';
import { adminCall } from './admin-errors.ts';

const FIELDS = ['github', 'ownerId', 'repositoryId', 'ref', 'environment', 'jobWorkflowRef', 'actions', 'repositories', 'maxSeconds'] as const;

export const trustEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/trust-rules', access: 'project-admin', summary: 'the project\'s OIDC trust rules (keyless CI), by id, a page at a time',
    async handle({ req, store, project }) {
      const page = pageParams(req);
      const rules = (await store.listTrustRules(project!.name)).map(publicTrustRule);
      return listResponse(req, 'rules', pageOf(rules, (r) => r.id, page), page.n, (r) => r.id);
    },
  },
  {
    method: 'POST', path: '/projects/{project}/trust-rules', access: 'project-admin',
    summary: 'adds a trust rule: {github: owner/name, ownerId, repositoryId, ref?, environment?, jobWorkflowRef?, actions?, repositories?, maxSeconds?}',
    async handle({ req, store, project, deps }) {
      const body = await readJson(req);
      onlyFields(body, FIELDS);
      const optional = (key: 'ref' | 'environment' | 'jobWorkflowRef') => {
        const v = stringField(body, key, true);
        return v === undefined ? {} : { [key]: v };
      };
      const actionList = stringListField(body, 'actions') ?? ['pull', 'push'];
      const actions = await adminCall(async () => parseActions(actionList.join(',')));
      const repositories = stringListField(body, 'repositories');
      const maxSeconds = body.maxSeconds;
      if (maxSeconds !== undefined && (typeof maxSeconds !== 'number' || !Number.isInteger(maxSeconds))) throw invalid('maxSeconds', `must be a whole number of seconds (300 to ${MAX_TRUST_SECONDS})`);
      const rule = await adminCall(() => addTrustRule(store, project!.name, {
        github: stringField(body, 'github'), ownerId: stringField(body, 'ownerId'), repositoryId: stringField(body, 'repositoryId'),
        ...optional('ref'), ...optional('environment'), ...optional('jobWorkflowRef'),
        actions, ...(repositories ? { repositories } : {}), ...(maxSeconds !== undefined ? { maxSeconds } : {}),
      }, deps.now()));
      return jsonResponse(201, publicTrustRule(rule));
    },
  },
  {
    method: 'DELETE', path: '/projects/{project}/trust-rules/{id}', access: 'project-admin', summary: 'removes a trust rule: ID tokens it let in get no new registry token',
    async handle({ store, project, path }) {
      if (!(await store.getTrustRule(project!.name, path.id!))) throw notFound('trust rule', path.id!);
      await adminCall(() => removeTrustRule(store, project!.name, path.id!));
      return emptyResponse(204);
    },
  },
];
