// The OCI distribution route table: path patterns, and per method the operation to run. The only
// place an OCI path pattern is written: log and metric names (the API Lambda's operationOf) derive
// from it, and the CloudFront Functions' own patterns are checked against it by test/edge/routes.test.ts.
import type { Operation, Params } from './context.ts';
import { apiVersionCheck } from './handlers/base.ts';
import { deleteBlob, getBlob, headBlob } from './handlers/blobs.ts';
import { listCatalog, listReferrers, listTags } from './handlers/listing.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './handlers/manifests.ts';
import { getToken, postToken } from './auth/token-endpoint.ts';
import { managementApi } from './management/api.ts';
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from './handlers/uploads.ts';

/** What a route serves, for logs and metrics (`manifest.get`, `upload.patch`): never a repository name. */
export type Resource = 'base' | 'catalog' | 'tags' | 'manifest' | 'referrers' | 'upload' | 'blob' | 'token' | 'management';

export interface Route {
  resource: Resource;
  pattern: RegExp;
  /** Names of the pattern's capture groups, in order. */
  keys: (keyof Params)[];
  methods: Readonly<Record<string, Operation>>;
}

// Names may contain '/', so each pattern anchors on the fixed suffix after the name. Upload routes
// come before the blob route so `/blobs/uploads/` is never read as a digest.
export const routes: readonly Route[] = [
  // Docker token authentication's realm (the registry is its own token server).
  { resource: 'token', pattern: /^\/token$/, keys: [], methods: { GET: getToken, POST: postToken } },
  // The management API (core/management/router.ts holds its own table below this prefix).
  { resource: 'management', pattern: /^\/api\/v1\/.*$/, keys: [], methods: { GET: managementApi, POST: managementApi, PUT: managementApi, PATCH: managementApi, DELETE: managementApi } },
  { resource: 'base', pattern: /^\/v2\/?$/, keys: [], methods: { GET: apiVersionCheck, HEAD: apiVersionCheck } },
  { resource: 'catalog', pattern: /^\/v2\/_catalog$/, keys: [], methods: { GET: listCatalog } },
  { resource: 'tags', pattern: /^\/v2\/(.+)\/tags\/list$/, keys: ['name'], methods: { GET: listTags } },
  {
    resource: 'manifest',
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    keys: ['name', 'reference'],
    methods: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deleteManifest },
  },
  { resource: 'referrers', pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, keys: ['name', 'digest'], methods: { GET: listReferrers } },
  { resource: 'upload', pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, keys: ['name'], methods: { POST: startUpload } },
  {
    resource: 'upload',
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    keys: ['name', 'session'],
    methods: { GET: getUploadStatus, PATCH: patchUpload, PUT: putUpload, DELETE: cancelUpload },
  },
  { resource: 'blob', pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, keys: ['name', 'digest'], methods: { GET: getBlob, HEAD: headBlob, DELETE: deleteBlob } },
];

export type Match = { route: Route; params: Params } | undefined;

export function matchRoute(path: string): Match {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Params = { name: '', reference: '', digest: '', session: '' };
    route.keys.forEach((key, i) => (params[key] = m[i + 1] ?? ''));
    return { route, params };
  }
  return undefined;
}
