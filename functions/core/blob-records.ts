// Recording a verified blob: the one path by which bytes become a blob, whether they passed through
// this process (an upload's finishing PUT) or were verified elsewhere (an edge PUT into S3, whose
// object-created event or the manifest PUT that follows records it).
import type { RegistryDeps } from './context.ts';
import type { BlobRecord, BlobStore } from './ports.ts';

/**
 * Records the blob (first verified copy wins), links the winner into the repository, then deletes
 * this copy's bytes when an earlier copy won. Returns the record that is stored.
 *
 * The link comes before the delete: a manifest PUT racing an edge upload's event finds the blob
 * either as the repository's own upload (the copy, not deleted yet) or as a link, never neither.
 */
export async function recordBlob(deps: Pick<RegistryDeps, 'metadata' | 'blobs'>, repo: string, blob: BlobRecord): Promise<BlobRecord> {
  const { metadata } = deps;
  let stored: BlobRecord;
  if (metadata.recordBlob) {
    stored = await metadata.recordBlob(repo, blob);
  } else {
    stored = await metadata.putBlob(blob);
    await metadata.linkBlob(repo, stored);
  }
  if (stored.location !== blob.location) {
    // A duplicate: the bytes are the same (same digest), only their location differs. Deleting them
    // is tidying up; a failure leaves unreferenced bytes for GC, never a wrong blob.
    await deps.blobs.deleteBlob(blob.location).catch(() => undefined);
  }
  return stored;
}

type EdgeDeps = Pick<RegistryDeps, 'metadata' | 'blobs' | 'now'>;
type EdgeUpload = NonNullable<Awaited<ReturnType<NonNullable<BlobStore['findRepoUpload']>>>>;

/**
 * Ends the upload session that wrote an edge upload (the object names it), which makes this caller
 * the one that records the upload. True when it ended the session here; false when there is no
 * session to end (the object names none, or it was ended already: by the request or event that
 * recorded the upload, or by one that is recording it now). One DeleteItem when it names one.
 */
export async function endEdgeSession(deps: EdgeDeps, upload: EdgeUpload): Promise<boolean> {
  return upload.uploadId !== undefined && (await deps.metadata.deleteUpload(upload.uploadId));
}

/**
 * Records (and links) `repo`'s upload of `digest` that the edge PUT straight into storage, when
 * storage holds one not recorded yet; undefined when there is none. Its storage event normally does
 * this (functions/apps/events-lambda); a request that needs the blob before the event arrives does it
 * first. Whoever ends the upload's session records it (endEdgeSession); when the session was ended
 * already, the upload counts as recorded if the blob record names this object (the event may still
 * be writing it, or a recorder failed: then it is recorded here). A recorded object whose repository
 * unlinked the blob since (DELETE) is never linked again. One storage lookup (findRepoUpload), then
 * one DeleteItem and the recording; when the session was ended already, one GetItem of the blob
 * record (and of the link when it turns out recorded, looked at again for up to 775 ms while another
 * recorder may be writing it).
 */
export async function recordEdgeUpload(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  if (!deps.blobs.findRepoUpload) return undefined;
  const upload = await deps.blobs.findRepoUpload(repo, digest);
  if (!upload) return undefined;
  if (!(await endEdgeSession(deps, upload)) && upload.uploadId !== undefined && (await deps.metadata.getBlob(digest))?.location === upload.location) {
    return linkSoon(deps, repo, digest);
  }
  return recordBlob(deps, repo, { digest, size: upload.size, location: upload.location, createdAt: deps.now() });
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
 * and linked here, as the event would (recordEdgeUpload).
 */
export async function linkedOrEdgeBlob(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  return (await deps.metadata.getLinkedBlob(repo, digest)) ?? recordEdgeUpload(deps, repo, digest);
}
