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
  const stored = await deps.metadata.putBlob(blob);
  await deps.metadata.linkBlob(repo, stored);
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
 * Whether an edge upload found in storage has been recorded already. The edge names the upload
 * session that wrote the object (`uploadId`); recording it ends that session. A recorded object
 * whose blob record still names it must not be recorded again: its repository may have unlinked
 * the blob since (DELETE), and the object stays as long as it is the blob's stored copy.
 */
export async function edgeUploadRecorded(deps: EdgeDeps, digest: string, upload: EdgeUpload): Promise<boolean> {
  if (upload.uploadId === undefined) return false;
  if (await deps.metadata.getUpload(upload.uploadId)) return false;
  return (await deps.metadata.getBlob(digest))?.location === upload.location;
}

/**
 * Records (and links) `repo`'s upload of `digest` that the edge PUT straight into storage, when
 * storage holds one not recorded yet, and ends the upload session that wrote it; undefined when
 * there is none. Its storage event normally does this (functions/apps/events-lambda); a request that needs the
 * blob before the event arrives does it first (the other one then finds it recorded). One storage
 * lookup (findRepoUpload), plus two reads when the object names its session (and a third when it
 * turns out recorded already: the link is read again, as the recording may have happened after the
 * caller read it).
 */
export async function recordEdgeUpload(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  if (!deps.blobs.findRepoUpload) return undefined;
  const upload = await deps.blobs.findRepoUpload(repo, digest);
  if (!upload) return undefined;
  // Recorded meanwhile (by the event, while this request was reading): the link it made, if any.
  if (await edgeUploadRecorded(deps, digest, upload)) return deps.metadata.getLinkedBlob(repo, digest);
  return recordFoundEdgeUpload(deps, repo, digest, upload);
}

/** Records an edge upload found in storage and not recorded yet, and ends the session that wrote it. */
export async function recordFoundEdgeUpload(deps: EdgeDeps, repo: string, digest: string, upload: EdgeUpload, size = upload.size): Promise<BlobRecord> {
  const stored = await recordBlob(deps, repo, { digest, size, location: upload.location, createdAt: deps.now() });
  if (upload.uploadId !== undefined) await deps.metadata.deleteUpload(upload.uploadId);
  return stored;
}

/**
 * The blob linked into `repo`, or `repo`'s own edge upload of it whose storage event has not been
 * recorded yet (the client HEADs, GETs or mounts the blob right after the edge's 201): recorded
 * and linked here, as the event would (recordEdgeUpload).
 */
export async function linkedOrEdgeBlob(deps: EdgeDeps, repo: string, digest: string): Promise<BlobRecord | undefined> {
  return (await deps.metadata.getLinkedBlob(repo, digest)) ?? recordEdgeUpload(deps, repo, digest);
}
