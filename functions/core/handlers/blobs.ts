// GET / HEAD / DELETE /v2/<name>/blobs/<digest>
import { repositoryPaths } from '../shared-cache.ts';
import { repoAccess } from '../access.ts';
import { linkedOrEdgeBlob, recordEdgeUpload } from '../blob-records.ts';
import { RegistryError } from '../errors.ts';
import { requireDigest } from '../grammar.ts';
import { emptyResponse } from '../http.ts';
import type { HandlerContext, Operation } from '../context.ts';
import { proxiedBlob } from '../proxy/pull-through.ts';

async function linkedBlob({ params, deps }: HandlerContext) {
  const digest = requireDigest(params.digest);
  let blob = await linkedOrEdgeBlob(deps, params.name, digest);
  // A miss in a proxy project is fetched from its upstream (the project read only on a miss).
  const proxied = !blob && deps.proxy && (await deps.proxy.projectOf(params.name));
  if (proxied) blob = await proxiedBlob({ ...deps, proxy: deps.proxy! }, proxied, params.name, digest);
  if (!blob) throw new RegistryError('BLOB_UNKNOWN', { digest });
  return blob;
}

export const headBlob: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  cache: () => 'content',
  async handle(ctx) {
    const blob = await linkedBlob(ctx);
    return {
      status: 200,
      headers: {
        'content-length': String(blob.size),
        'content-type': 'application/octet-stream',
        'docker-content-digest': blob.digest,
        etag: `"${blob.digest}"`,
      },
    };
  },
};

export const getBlob: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  cache: () => 'redirect',
  async handle(ctx) {
    const blob = await linkedBlob(ctx);
    const url = await ctx.deps.blobs.readUrl(blob, { expiresInSeconds: ctx.deps.settings.blobUrlTtlSeconds });
    return emptyResponse(307, { location: url, 'docker-content-digest': blob.digest, 'cache-control': 'no-store' });
  },
};

export const deleteBlob: Operation = {
  access: (p) => [repoAccess(p.name, 'delete')],
  async handle({ params, deps, req }) {
    const digest = requireDigest(params.digest);
    // An edge upload whose event is still on its way is recorded first, so that the event, arriving
    // later, finds it recorded and does not link it again.
    const unlinked = (await deps.metadata.unlinkBlob(params.name, digest)) || ((await recordEdgeUpload(deps, params.name, digest)) !== undefined && (await deps.metadata.unlinkBlob(params.name, digest)));
    if (!unlinked) throw new RegistryError('BLOB_UNKNOWN', { digest });
    await deps.sharedCache?.purge(req, repositoryPaths(params.name)).catch(() => undefined);
    return emptyResponse(202, { 'docker-content-digest': digest });
  },
};
