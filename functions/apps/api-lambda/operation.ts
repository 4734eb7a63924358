// A bounded name for each request, e.g. `manifest.get`, `blob.head`, `upload.patch`, for logs and
// metric dimensions. Derived from the path shape only, so it never carries a repository name.
const RESOURCES: readonly [RegExp, string][] = [
  [/^\/v2\/?$/, 'base'],
  [/^\/v2\/_catalog$/, 'catalog'],
  [/^\/v2\/.+\/tags\/list$/, 'tags'],
  [/^\/v2\/.+\/manifests\/[^/]+$/, 'manifest'],
  [/^\/v2\/.+\/referrers\/[^/]+$/, 'referrers'],
  [/^\/v2\/.+\/blobs\/uploads\/?$/, 'upload'],
  [/^\/v2\/.+\/blobs\/uploads\/[^/]+$/, 'upload'],
  [/^\/v2\/.+\/blobs\/[^/]+$/, 'blob'],
];

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE']);

export function operationOf(method: string, path: string): string {
  const resource = RESOURCES.find(([pattern]) => pattern.test(path))?.[1] ?? 'other';
  const m = method.toUpperCase();
  return `${resource}.${METHODS.has(m) ? m.toLowerCase() : 'other'}`;
}
