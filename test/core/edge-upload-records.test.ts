// recordEdgeUpload when someone else ended the upload's session: a re-push of a blob to the very key
// its record names (after a DELETE of the blob) is linked by that other recorder a moment later, and
// a request that needs the blob meanwhile waits for the link instead of answering 404; a blob whose
// repository deleted it, with no one recording it again, stays unlinked.
import { describe, expect, it } from 'vitest';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { recordEdgeUpload } from '../../functions/core/blob-records.ts';
import type { BlobStore } from '../../functions/core/ports.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const KEY = `blobs/r/team/app/sha256/${'a'.repeat(64)}`;
const NOW = 1_800_000_000_000;

async function setup() {
  const metadata = new SqliteMetadataStore(':memory:');
  const record = { digest: DIGEST, size: 10, location: KEY, createdAt: NOW };
  // The first push: recorded and linked; then the blob was deleted from the repository.
  await metadata.putBlob(record);
  await metadata.linkBlob('team/app', record);
  await metadata.unlinkBlob('team/app', DIGEST);
  // The re-push: a new session, and the edge's object at the same key names it.
  const session = { id: '0b8f7c1e-1111-4222-8333-444455556666', repo: 'team/app', offset: 0, state: '', createdAt: NOW, updatedAt: NOW, expiresAt: NOW + 3_600_000 };
  await metadata.createUpload(session);
  // Storage as the S3 store reports it: the object at the key, naming the session that wrote it.
  const blobs = { findRepoUpload: async () => ({ location: KEY, size: 10, uploadId: session.id }) } as unknown as BlobStore;
  return { metadata, record, session, deps: { metadata, blobs, now: () => NOW } };
}

describe('recordEdgeUpload after another recorder ended the session', () => {
  it('waits for the link the other recorder is writing, and returns it', async () => {
    const { metadata, record, session, deps } = await setup();
    // The event: ends the session, and links 100 ms later (its transaction still on its way).
    await metadata.deleteUpload(session.id);
    setTimeout(() => void metadata.linkBlob('team/app', record), 100);
    const started = Date.now();
    expect(await recordEdgeUpload(deps, 'team/app', DIGEST)).toMatchObject({ digest: DIGEST, location: KEY });
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('a deleted blob that no one records again stays unlinked (undefined after the wait)', async () => {
    const { metadata, session, deps } = await setup();
    await metadata.deleteUpload(session.id);
    expect(await recordEdgeUpload(deps, 'team/app', DIGEST)).toBeUndefined();
    expect(await metadata.getLinkedBlob('team/app', DIGEST)).toBeUndefined();
  });

  it('a session still open is ended and recorded here, at once', async () => {
    const { deps, metadata, session } = await setup();
    expect(await recordEdgeUpload(deps, 'team/app', DIGEST)).toMatchObject({ location: KEY });
    expect(await metadata.getUpload(session.id)).toBeUndefined();
    expect(await metadata.getLinkedBlob('team/app', DIGEST)).toMatchObject({ location: KEY });
  });
});
