// A project's storage quota over the management API (core/quota.ts enforces it; docs/quotas.md):
// its admins (and system administrators) read the quota and the usage; only a system administrator
// sets or removes it, since the quota bounds what the registry's operator pays for. Each change is an
// audit entry (the router's audited store: policy.quota).
import { jsonResponse } from '../http.ts';
import { projectOf } from '../auth/model.ts';
import { quotaOf, setQuota } from '../auth/quota-admin.ts';
import type { Endpoint } from './router.ts';
import { invalid, notFound, onlyFields, readJson } from './io.ts';
import { adminCall } from './admin-errors.ts';

export const quotaEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/quota', access: 'project-admin', summary: 'the project\'s storage quota (quotaBytes, null: none) and usage (usedBytes, blobs: distinct blobs linked in its repositories)',
    async handle({ project, deps }) {
      return jsonResponse(200, quotaOf(project!, await deps.metadata.projectUsage(project!.name)));
    },
  },
  {
    method: 'PUT', path: '/projects/{project}/quota', access: 'system-admin', summary: 'sets the storage quota: {quotaBytes} (a whole number of bytes; null removes it); pushes beyond it are refused with 403 DENIED',
    async handle({ req, store, path, deps }) {
      const name = path.project!;
      if (projectOf(name) !== name || !(await store.getProject(name))) throw notFound('project', name);
      const body = await readJson(req);
      onlyFields(body, ['quotaBytes']);
      const bytes = body.quotaBytes;
      if (bytes !== null && (typeof bytes !== 'number' || !Number.isSafeInteger(bytes))) throw invalid('quotaBytes', 'must be a whole number of bytes, or null to remove the quota');
      const next = await adminCall(() => setQuota(store, name, bytes === null ? undefined : bytes));
      return jsonResponse(200, quotaOf(next, await deps.metadata.projectUsage(name)));
    },
  },
];
