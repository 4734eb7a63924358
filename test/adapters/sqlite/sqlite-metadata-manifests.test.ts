// SqliteMetadataStore, manifests, tags and referrers: every field round-tripped, tags moved and
// deleted, idempotent puts, deletes that take their tags and referrer entry, and rollback.
// Against real temp-file databases, one per test (test/support/sqlite-metadata.ts).
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { OCI_INDEX, OCI_MANIFEST } from '../../support/oci.ts';
import { digestOf, manifest, sqliteMetadataStorePerTest } from '../../support/sqlite-metadata.ts';

const t = sqliteMetadataStorePerTest();

describe('SqliteMetadataStore', () => {
  describe('manifests and tags', () => {
    it('round-trips every field, byte-exact body as Uint8Array', async () => {
      const body = new Uint8Array([0, 1, 2, 255, 0x7b, 0x7d]);
      const m = manifest(1, {
        body, size: body.byteLength, subject: digestOf(9), artifactType: 'application/x.sig',
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', a: 'b' },
        blobs: [digestOf('c'), digestOf('l1'), digestOf('l2')], createdAt: 1234,
      });
      await t.store.putManifest('r/x', m, []);
      const got = await t.store.getManifest('r/x', m.digest);
      assert.ok(got);
      assert.ok(got.body instanceof Uint8Array);
      assert.deepEqual([...got.body], [...body]);
      assert.deepEqual({ ...got, body: [...got.body] }, { ...m, body: [...body] });
      assert.equal(await t.store.getManifest('r/y', m.digest), undefined);
      assert.equal(await t.store.getManifest('r/x', digestOf(2)), undefined);
    });

    it('leaves optional fields absent rather than null', async () => {
      const idx = manifest(2, { mediaType: OCI_INDEX, blobs: [], manifests: [digestOf(3), digestOf(4)] });
      await t.store.putManifest('r/x', idx, ['v1']);
      for (const got of [await t.store.getManifest('r/x', idx.digest), await t.store.getTaggedManifest('r/x', 'v1')]) {
        assert.ok(got);
        assert.equal('subject' in got, false);
        assert.equal('artifactType' in got, false);
        assert.equal('annotations' in got, false);
        assert.deepEqual(got.manifests, [digestOf(3), digestOf(4)]);
        assert.deepEqual(got.blobs, []);
        assert.equal(got.mediaType, OCI_INDEX);
      }
    });

    it('resolves tags, overwrites them, deletes them', async () => {
      await t.store.putManifest('r/x', manifest(1), ['latest']);
      assert.equal((await t.store.getTaggedManifest('r/x', 'latest'))?.digest, digestOf(1));
      await t.store.putManifest('r/x', manifest(2), ['latest']);
      assert.equal((await t.store.getTaggedManifest('r/x', 'latest'))?.digest, digestOf(2));
      assert.ok(await t.store.getManifest('r/x', digestOf(1)), 'old manifest stays when its tag moves');
      assert.equal(await t.store.getTaggedManifest('r/y', 'latest'), undefined);
      assert.equal(await t.store.getTaggedManifest('r/x', 'nope'), undefined);
      assert.equal(await t.store.deleteTag('r/x', 'latest'), true);
      assert.equal(await t.store.deleteTag('r/x', 'latest'), false);
      assert.equal(await t.store.getTaggedManifest('r/x', 'latest'), undefined);
      assert.ok(await t.store.getManifest('r/x', digestOf(2)), 'deleteTag keeps the manifest');
    });

    it('putManifest is idempotent and never overwrites a stored manifest', async () => {
      await t.store.putManifest('r/x', manifest(1, { createdAt: 1 }), []);
      await t.store.putManifest('r/x', manifest(1, { createdAt: 2, annotations: { x: 'y' } }), ['v1']);
      await t.store.putManifest('r/x', manifest(1, { createdAt: 3 }), ['v2']);
      const got = await t.store.getManifest('r/x', digestOf(1));
      assert.equal(got?.createdAt, 1);
      assert.equal(got && 'annotations' in got, false);
      assert.deepEqual(await t.store.listTags('r/x', 10), { items: ['v1', 'v2'], more: false });
      assert.equal((await t.store.getTaggedManifest('r/x', 'v2'))?.digest, digestOf(1));
    });

    it('deleteManifest removes its tags and referrer entry, nothing else', async () => {
      const subject = manifest(1);
      const sig = manifest(2, { subject: subject.digest, artifactType: 'application/x.sig' });
      for (const repo of ['r/x', 'r/y']) {
        await t.store.putManifest(repo, subject, ['v1']);
        await t.store.putManifest(repo, sig, ['sig-a']);
        await t.store.putManifest(repo, sig, ['sig-b']);
        await t.store.putManifest(repo, manifest(3), ['other']);
        await t.store.linkBlob(repo, { digest: digestOf('l2'), size: 1, location: `blobs/${digestOf('l2')}`, createdAt: 0 });
      }
      assert.equal(await t.store.deleteManifest('r/x', sig.digest), true);
      assert.equal(await t.store.deleteManifest('r/x', sig.digest), false);
      assert.equal(await t.store.getManifest('r/x', sig.digest), undefined);
      assert.equal(await t.store.getTaggedManifest('r/x', 'sig-a'), undefined);
      assert.deepEqual(await t.store.listTags('r/x', 10), { items: ['other', 'v1'], more: false });
      assert.deepEqual((await t.store.listReferrers('r/x', subject.digest, 1000)).items, []);
      // The other repository is untouched.
      assert.deepEqual(await t.store.listTags('r/y', 10), { items: ['other', 'sig-a', 'sig-b', 'v1'], more: false });
      assert.equal((await t.store.listReferrers('r/y', subject.digest, 1000)).items.length, 1);
      assert.equal((await t.store.getTaggedManifest('r/y', 'sig-b'))?.digest, sig.digest);
      // Blob links are not the manifest's to delete.
      await t.store.putBlob({ digest: digestOf('l2'), size: 1, location: `blobs/${digestOf('l2')}`, createdAt: 1 });
      assert.ok(await t.store.getLinkedBlob('r/x', digestOf('l2')));
    });

    it('repositories stay listed after their content is deleted', async () => {
      await t.store.putManifest('r/x', manifest(1), ['v1']);
      await t.store.deleteManifest('r/x', digestOf(1));
      assert.equal(await t.store.repositoryExists('r/x'), true);
      assert.deepEqual(await t.store.listRepositories(10), { items: ['r/x'], more: false });
      assert.deepEqual(await t.store.listTags('r/x', 10), { items: [], more: false });
      assert.equal(await t.store.repositoryExists('r/none'), false);
    });

    it('putManifest rolls back completely when a step fails mid-transaction', async () => {
      // A trigger on the same file makes the tag write (the last step) fail, after the repository
      // and manifest rows were already inserted inside the transaction.
      const saboteur = new DatabaseSync(t.file);
      try {
        saboteur.exec(`CREATE TRIGGER fail_tag BEFORE INSERT ON tags WHEN NEW.tag = 'boom'
          BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
      } finally {
        saboteur.close();
      }
      await assert.rejects(t.store.putManifest('r/new', manifest(1), ['boom']), /injected failure/);
      assert.equal(await t.store.repositoryExists('r/new'), false);
      assert.equal(await t.store.getManifest('r/new', digestOf(1)), undefined);
      assert.deepEqual(await t.store.listRepositories(10), { items: [], more: false });
      // The connection is usable afterwards, and the same call without the failing tag succeeds.
      await t.store.putManifest('r/new', manifest(1), ['ok']);
      assert.equal((await t.store.getTaggedManifest('r/new', 'ok'))?.digest, digestOf(1));
    });
  });

  describe('referrers', () => {
    it('lists descriptors of manifests with that subject in the repo, by digest', async () => {
      const subject = digestOf('s');
      await t.store.putManifest('r/x', manifest('f', { subject, artifactType: 'application/x.sbom', annotations: { k: 'v' } }), []);
      await t.store.putManifest('r/x', manifest('a', { subject }), []);
      await t.store.putManifest('r/x', manifest('c', { subject: digestOf('other') }), []);
      await t.store.putManifest('r/x', manifest('d'), []);
      await t.store.putManifest('r/y', manifest('b', { subject }), []);
      const m = manifest('a');
      assert.deepEqual((await t.store.listReferrers('r/x', subject, 1000)).items, [
        { mediaType: OCI_MANIFEST, digest: digestOf('a'), size: m.size },
        { mediaType: OCI_MANIFEST, digest: digestOf('f'), size: manifest('f').size, artifactType: 'application/x.sbom', annotations: { k: 'v' } },
      ]);
      const [first] = (await t.store.listReferrers('r/x', subject, 1000)).items;
      assert.ok(first);
      assert.deepEqual(Object.keys(first).sort(), ['digest', 'mediaType', 'size']);
      assert.deepEqual((await t.store.listReferrers('r/z', subject, 1000)).items, []);
    });
  });
});
