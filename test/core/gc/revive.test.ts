// A manifest PUT that needs what a GC run has condemned (marked) revives it: the mark is removed
// before the manifest is stored, so the run's later conditional delete finds nothing to delete. If
// the run deleted it first, the PUT answers 404 MANIFEST_BLOB_UNKNOWN (as for any missing reference) and the client uploads it again.
// Deterministic: the marks are set through the store's GC port, not by racing a GC run
// (test/core/gc/gc-race.test.ts races real runs).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { GcTarget, MetadataStore } from '../../../functions/core/ports.ts';
import { EMPTY_DESCRIPTOR, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, assertError, artifact, pushBlob, putManifest, replaceMethod, setup, sha256, utf8, type Fixture } from '../real-adapters.ts';

const REPO = 'team/app';

function imageWith(layer: { digest: string; size: number }, seed: string): Buffer {
  return utf8(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
      annotations: { seed },
    }),
  );
}

/** Marks `target` as a GC run would; the mark's time. */
async function condemn(f: Fixture, target: GcTarget): Promise<number> {
  const at = Date.now();
  assert.equal(await f.metadata.gcMark(target, at, at + 60_000), true, `marked ${JSON.stringify(target)}`);
  return at;
}

async function markOf(f: Fixture, kind: 'link' | 'manifest', digest: string): Promise<number | undefined> {
  const r = await f.metadata.gcRepository(REPO);
  const item = (kind === 'link' ? r.links : r.manifests).find((x) => x.digest === digest);
  assert.ok(item, `${kind} ${digest} is stored`);
  return item.markedAt;
}

describe('a manifest PUT revives what a GC run condemned', () => {
  it('a condemned layer link: the PUT succeeds, the mark is gone and the run cannot delete the link', async (t) => {
    const f = await setup(t);
    const bytes = randomBytes(200);
    const layer = { digest: await pushBlob(f, REPO, bytes), size: bytes.byteLength };
    const markedAt = await condemn(f, { kind: 'link', repo: REPO, digest: layer.digest });
    assert.equal(await markOf(f, 'link', layer.digest), markedAt);

    const put = await putManifest(f, REPO, 'v1', imageWith(layer, 'a'));
    assert.equal(put.status, 201, put.where);
    assert.equal(await markOf(f, 'link', layer.digest), undefined);
    assert.equal(await f.metadata.gcDelete({ kind: 'link', repo: REPO, digest: layer.digest }, markedAt), false);
    assert.equal((await f.call('HEAD', `/v2/${REPO}/blobs/${layer.digest}`)).status, 200);
  });

  it('a condemned child manifest: the index PUT succeeds and the child is unmarked', async (t) => {
    const f = await setup(t);
    const child = artifact('child');
    const childDigest = sha256(child);
    assert.equal((await putManifest(f, REPO, childDigest, child)).status, 201);
    const markedAt = await condemn(f, { kind: 'manifest', repo: REPO, digest: childDigest });

    const index = utf8(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: childDigest, size: child.byteLength }] }));
    const put = await putManifest(f, REPO, 'multi', index, OCI_INDEX);
    assert.equal(put.status, 201, put.where);
    assert.equal(await markOf(f, 'manifest', childDigest), undefined);
    assert.equal(await f.metadata.gcDelete({ kind: 'manifest', repo: REPO, digest: childDigest }, markedAt), false);
    assert.equal((await f.call('GET', `/v2/${REPO}/manifests/${childDigest}`)).status, 200);
  });

  it('a link the run deleted before the PUT could revive it: 404 MANIFEST_BLOB_UNKNOWN, nothing stored; a new upload then succeeds', async (t) => {
    const bytes = randomBytes(200);
    const layer = { digest: sha256(bytes), size: bytes.byteLength };
    let markedAt = 0;
    // The run's delete lands between the PUT's reference read and its unmark.
    const f = await setup(t, {
      wrapMetadata: (m: MetadataStore) =>
        replaceMethod(m, 'gcUnmark', async (target: GcTarget) => {
          if (target.kind === 'link' && target.digest === layer.digest && markedAt !== 0) {
            assert.equal(await f.metadata.gcDelete(target, markedAt), true);
            markedAt = 0;
          }
          return m.gcUnmark(target);
        }),
    });
    await pushBlob(f, REPO, bytes);
    markedAt = await condemn(f, { kind: 'link', repo: REPO, digest: layer.digest });

    const body = imageWith(layer, 'b');
    assertError(await putManifest(f, REPO, 'v1', body), 404, 'MANIFEST_BLOB_UNKNOWN');
    assertError(await f.call('GET', `/v2/${REPO}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');

    await pushBlob(f, REPO, bytes);
    assert.equal((await putManifest(f, REPO, 'v1', body)).status, 201);
  });
});
