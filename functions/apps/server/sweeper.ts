// Purges expired upload sessions, and (at start-up) what an upload killed mid-way leaves behind: upload
// files that no session owns any more, and sessions whose file is gone (a kill after the finishing PUT
// moved the file into blobs/ but before the session ended: resuming it could only fail).
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
  let unbacked = 0;
  if (opts.orphans) {
    const files = await blobs.listUploadFiles();
    for (const id of files) {
      if (!(await metadata.getUpload(id))) {
        await blobs.abortUpload(id);
        orphans++;
      }
    }
    const onDisk = new Set(files);
    for (let after = ''; ; ) {
      const ids = metadata.listUploadIds(after, 500);
      for (const id of ids) {
        if (!onDisk.has(id) && metadata.purgeUpload(id)) unbacked++;
      }
      if (ids.length < 500) break;
      after = ids.at(-1)!;
    }
  }
  if (expired + orphans + unbacked > 0) log('info', 'uploads swept', { expired, orphans, unbacked });
}
