// A project's tag policies over the management API: what `npm run admin -- policy ...` shows and
// changes. Retention rules (GC runs remove the tags they cover: core/gc/retention.ts) and protect
// patterns (tags no rule removes); immutability rules are in projects.ts. Read by whoever may see
// the project, changed by its admins; each change is an audit entry (the router's audited store).
import { emptyResponse, jsonResponse, type RegistryRequest } from '../http.ts';
import type { RetentionRule, TagRule } from '../auth/model.ts';
import { addProtectRule, addRetentionRule, removeProtectRule, removeRetentionRule, retentionOf } from '../auth/retention-admin.ts';
import type { Endpoint } from './router.ts';
import { invalid, onlyFields, readJson, stringField, type Json } from './io.ts';
import { adminCall } from './admin-errors.ts';

const LIMITS = ['keep', 'olderThanDays', 'notPulledDays'] as const;

function scopeOf(fields: Json): TagRule {
  return { repositories: stringField(fields, 'repositories'), tags: stringField(fields, 'tags') };
}

function wholeNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(field, 'must be a whole number');
  return v;
}

/** The rule named by `fields`: its scope and exactly one limit (range checked by retention-admin.ts). */
function retentionRuleOf(fields: Json): RetentionRule {
  onlyFields(fields, ['repositories', 'tags', ...LIMITS]);
  const given = LIMITS.filter((k) => fields[k] !== undefined);
  if (given.length !== 1) throw invalid(given[1] ?? 'keep', `give exactly one of ${LIMITS.join(', ')}`);
  const limit = given[0]!;
  const value = wholeNumber(limit, fields[limit]);
  const scope = scopeOf(fields);
  if (limit === 'keep') return { ...scope, keep: value };
  return limit === 'olderThanDays' ? { ...scope, olderThanDays: value } : { ...scope, notPulledDays: value };
}

/** The query of a DELETE as fields (absent parameters left out; a limit given in digits as a number). */
function queryFields(req: RegistryRequest, names: readonly string[]): Json {
  const out: Json = {};
  for (const name of names) {
    const v = req.query.get(name);
    if (v !== null) out[name] = (LIMITS as readonly string[]).includes(name) && /^\d{1,9}$/.test(v) ? Number(v) : v;
  }
  return out;
}

export const policyEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/policy', access: 'project-reader', summary: 'the project\'s tag policies: immutability rules, retention rules, protect patterns',
    async handle({ project }) {
      return jsonResponse(200, { ...retentionOf(project!), immutableTags: project!.immutableTags ?? [] });
    },
  },
  {
    method: 'POST', path: '/projects/{project}/retention-rules', access: 'project-admin', summary: 'adds a retention rule: {repositories, tags} and one of {keep, olderThanDays, notPulledDays}; GC runs remove the tags it covers',
    async handle({ req, store, project }) {
      const rule = retentionRuleOf(await readJson(req));
      return jsonResponse(200, retentionOf(await adminCall(() => addRetentionRule(store, project!.name, rule))));
    },
  },
  {
    method: 'DELETE', path: '/projects/{project}/retention-rules', access: 'project-admin', summary: 'removes the retention rule named by ?repositories=&tags= and its limit (&keep=, &olderThanDays= or &notPulledDays=)',
    async handle({ req, store, project }) {
      const rule = retentionRuleOf(queryFields(req, ['repositories', 'tags', ...LIMITS]));
      await adminCall(() => removeRetentionRule(store, project!.name, rule));
      return emptyResponse(204);
    },
  },
  {
    method: 'POST', path: '/projects/{project}/protect-rules', access: 'project-admin', summary: 'adds a protect pattern: {repositories, tags}; no retention rule removes the tags it covers',
    async handle({ req, store, project }) {
      const body = await readJson(req);
      onlyFields(body, ['repositories', 'tags']);
      const rule = scopeOf(body);
      return jsonResponse(200, retentionOf(await adminCall(() => addProtectRule(store, project!.name, rule))));
    },
  },
  {
    method: 'DELETE', path: '/projects/{project}/protect-rules', access: 'project-admin', summary: 'removes the protect pattern named by ?repositories=&tags=',
    async handle({ req, store, project }) {
      const rule = scopeOf(queryFields(req, ['repositories', 'tags']));
      await adminCall(() => removeProtectRule(store, project!.name, rule));
      return emptyResponse(204);
    },
  },
];
