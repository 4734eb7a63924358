// Recording a verified blob: the one path by which bytes become a blob, whether they passed through
// this process (an upload's finishing PUT) or were verified elsewhere (an edge PUT into S3, whose
// object-created event or the manifest PUT that follows records it).
import type { RegistryDeps } from './context.ts';
import type { BlobRecord } from './ports.ts';

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
