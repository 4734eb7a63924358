// A bounded name for each request, e.g. `manifest.get`, `blob.head`, `upload.patch`, for logs and
// metric dimensions: the resource of the route the path matches (functions/core/routes.ts) and the
// method, so it never carries a repository name.
import { matchRoute } from '../../core/routes.ts';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE']);

export function operationOf(method: string, path: string): string {
  const resource = matchRoute(path)?.route.resource ?? 'other';
  const m = method.toUpperCase();
  return `${resource}.${METHODS.has(m) ? m.toLowerCase() : 'other'}`;
}
