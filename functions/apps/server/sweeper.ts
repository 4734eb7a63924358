// Purges expired upload sessions, and (at start-up) upload files that no session owns any more:
// what an upload killed mid-way leaves behind.
import type { FsBlobStore } from '../../adapters/fs/fs-blob-store.ts';
import type { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-metadata.ts';
import { log } from '../../http/log.ts';

export async function sweepUploads(metadata: SqliteMetadataStore, blobs: FsBlobStore, opts: { orphans: boolean }): Promise<void> {
  let expired = 0;
  for (;;) {
    const batch = await metadata.listExpiredUploads(Date.now(), 100);
    // A session a request is writing to right now is not idle: that request extends it when done.
    const idle = batch.filter((session) => !blobs.isBusy(session.id));
    for (const session of idle) {
      await blobs.abortUpload(session.id);
      metadata.purgeUpload(session.id);
    }
    expired += idle.length;
    if (batch.length < 100 || idle.length === 0) break;
  }
  let orphans = 0;
  if (opts.orphans) {
    for (const id of await blobs.listUploadFiles()) {
      if (!(await metadata.getUpload(id))) {
        await blobs.abortUpload(id);
        orphans++;
      }
    }
  }
  if (expired + orphans > 0) log('info', 'uploads swept', { expired, orphans });
}
