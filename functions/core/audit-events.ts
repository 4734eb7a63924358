// What the registry's requests add to the audit trail (core/audit.ts), decided from the route, the
// principal and the answer once a request has succeeded: a manifest DELETE a tag or manifest delete,
// a blob DELETE a blob delete, a POST that mounted a blob a mount, a manifest GET a pull. A manifest
// PUT is a push, recorded by its handler (handlers/manifests.ts) so the store can write the entry with the
// manifest. Refused and failed requests add nothing here (the request log has them).
import type { Principal } from './access.ts';
import type { AuditRecorder } from './audit.ts';
import type { Params } from './context.ts';
import type { RegistryRequest, RegistryResponse } from './http.ts';
import type { Resource } from './routes.ts';

const isDigest = (reference: string): boolean => reference.includes(':');

export async function auditRequest(
  audit: AuditRecorder, resource: Resource, params: Params, req: RegistryRequest, principal: Principal, res: RegistryResponse,
): Promise<void> {
  const who = { actor: principal.subject, address: req.clientAddress ?? '', repository: params.name };
  if (resource === 'manifest') {
    if (req.method === 'GET' && res.status === 200) return audit.pulled(params.name, params.reference, who.actor, who.address);
    if (req.method === 'DELETE' && res.status === 202) {
      return audit.record({ ...who, action: isDigest(params.reference) ? 'manifest.delete' : 'tag.delete', target: params.reference });
    }
  }
  if (resource === 'blob' && req.method === 'DELETE' && res.status === 202) return audit.record({ ...who, action: 'blob.delete', target: params.digest });
  const mount = req.query.get('mount');
  if (resource === 'upload' && req.method === 'POST' && mount !== null && req.query.get('digest') === null && res.status === 201 && res.headers.location?.endsWith(`/blobs/${mount}`)) {
    return audit.record({ ...who, action: 'blob.mount', target: mount, detail: { from: req.query.get('from') ?? '' } });
  }
}
