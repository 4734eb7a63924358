// Recording a verified blob: the one path by which bytes become a blob, whether they passed through
// this process (an upload's finishing PUT) or were verified elsewhere (an edge PUT into S3, whose
// object-created event or the manifest PUT that follows records it).
import type { RegistryDeps } from './context.ts';
import type { BlobRecord, BlobStore } from './ports.ts';
import { limitOf } from './quota.ts';
import { QuotaExceededError } from './quota-ports.ts';

/**
 * Records the blob (first verified copy wins), links the winner into the repository, then deletes
 * this copy's bytes when an earlier copy won. Returns the record that is stored.
 *
 * The link comes before the delete: a manifest PUT racing an edge upload's event finds the blob
 * either as the repository's own upload (the copy, not deleted yet) or as a link, never neither.
 */
export async function recordBlob(deps: Pick<RegistryDeps, 'metadata' | 'blobs' | 'quotas'>, repo: string, blob: BlobRecord): Promise<BlobRecord> {
  const { metadata } = deps;
  // The link counts against the project's quota (core/quota.ts): over it, QuotaExceededError and no link.
  const limit = await limitOf(deps, repo);
  let stored: BlobRecord;
  if (metadata.recordBlob) {
    stored = await metadata.recordBlob(repo, blob, limit);
  } else {
    stored = await metadata.putBlob(blob);
    await metadata.linkBlob(repo, stored, limit);
  }
  await dropDuplicate(deps, blob, stored);
  return stored;
}

/**
 * Deletes `blob`'s bytes when another copy (`stored`) was recorded first. A duplicate: the bytes are
 * the same (same digest), only their location differs. Deleting them is tidying up; a failure leaves
 * unreferenced bytes for GC, never a wrong blob.
 */
async function dropDuplicate(deps: Pick<RegistryDeps, 'blobs'>, blob: BlobRecord, stored: BlobRecord): Promise<void> {
  if (stored.location !== blob.location) await deps.blobs.deleteBlob(blob.location).catch(() => undefined);
}

type EdgeDeps = Pick<RegistryDeps, 'metadata' | 'blobs' | 'now' | 'quotas'>;
export type EdgeUpload = NonNullable<Awaited<ReturnType<NonNullable<BlobStore['findRepoUpload']>>>>;

/**
 * Ends upload session `uploadId` (when the object names one) and records `blob`: whoever ends the
 * session records the upload. One atomic write where the store has one (recordUpload: one
 * TransactWriteItems), else one DeleteItem and then the recording. undefined when the session was
 * not there (ended already by whoever recorded the upload, or expired): nothing was recorded here.
 */
export async function recordSession(deps: EdgeDeps, repo: string, blob: BlobRecord, uploadId: string | undefined): Promise<BlobRecord | undefined> {
  const { metadata } = deps;
  if (uploadId === undefined) return recordBlob(deps, repo, blob);
  if (!metadata.recordUpload) return (await metadata.deleteUpload(uploadId)) ? recordBlob(deps, repo, blob) : undefined;
  const stored = await metadata.recordUpload(repo, blob, uploadId, await limitOf(deps, repo));
  if (stored) await dropDuplicate(deps, blob, stored);
  return stored;
}

/**
 * Records `repo`'s edge upload of `digest` (the object `upload`) for a request that needs the blob
 * (recordSession). With an atomic store, undefined means the session was ended by the write that
 * recorded and linked the upload (the link is there, unless the repository deleted the blob since)
 * or had expired. A store that ends sessions apart from recording may have a recorder between the
 * two: a session ended already counts as recorded when the blob record names this object (one
 * GetItem; then the link, looked at again for up to 775 ms while the other recorder may be writing
 * it), else the upload is recorded here (a recorder that failed after ending the session).
 */
export async function recordFoundUpload(deps: EdgeDeps, repo: string, digest: string, upload: EdgeUpload): Promise<BlobRecord | undefined> {
  const blob: BlobRecord = { digest, size: upload.size, location: upload.location, createdAt: deps.now() };
  const stored = await recordSession(deps, repo, blob, upload.uploadId);
  if (stored || deps.metadata.recordUpload) return stored;
  if ((await deps.metadata.getBlob(digest))?.location === upload.location) return linkSoon(deps, repo, digest);
  return recordBlob(deps, repo, blob);
}

/**
 * Records (and links) `repo`'s upload of `digest` that the edge PUT straight into storage, when
 * storage holds one not recorded yet; undefined when there is none. Its storage event normally does
 * this (functions/apps/events-lambda); a request that needs the blob before the event arrives does it
 * first (recordFoundUpload). One storage lookup (findRepoUpload), then the recording; when the
 * session was ended already by an atomic recording, one GetItem of the link. A recorded object whose
 * repository unlinked the blob since (DELETE) is never linked again.
 */
export async function recordEdgeUpload(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  const upload = await deps.blobs.findRepoUpload?.(repo, digest);
  if (!upload) return undefined;
  const stored = await recordFoundUpload(deps, repo, digest, upload);
  if (stored || !deps.metadata.recordUpload) return stored;
  return deps.metadata.getLinkedBlob(repo, digest);
}
/** Waits between looks for a link that is being written: 775 ms in all. */
const LINK_WAITS_MS = [25, 50, 100, 200, 400];

/**
 * The link of an upload whose session someone else ended: recorded already, or being recorded right
 * now (the event or another request, between its DeleteItem and its transaction: a re-push of a blob
 * to the key a record names already, e.g. after a DELETE of the blob). A few looks, spaced out; a
 * blob its repository unlinked since stays unlinked, and the wait ends empty.
 */
async function linkSoon(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  for (const ms of [0, ...LINK_WAITS_MS]) {
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    const linked = await deps.metadata.getLinkedBlob(repo, digest);
    if (linked) return linked;
  }
  return undefined;
}

/**
 * The blob linked into `repo`, or `repo`'s own edge upload of it whose storage event has not been
 * recorded yet (the client HEADs, GETs or mounts the blob right after the edge's 201): recorded
 * and linked here, as the event would (recordEdgeUpload); undefined when its project's quota
 * refuses it.
 */
export async function linkedOrEdgeBlob(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  const linked = await deps.metadata.getLinkedBlob(repo, digest);
  if (linked) return linked;
  // An edge upload over its project's quota is not in the repository (the manifest PUT says why: 403).
  return recordEdgeUpload(deps, repo, digest).catch((e: unknown) => {
    if (e instanceof QuotaExceededError) return undefined;
    throw e;
  });
}
