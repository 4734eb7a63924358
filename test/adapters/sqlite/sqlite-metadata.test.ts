// SqliteMetadataStore against real temp-file databases: every MetadataStore method, ordering,
// pagination, transactions and persistence.
import { describe, it, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { StorageFullError, type ManifestRecord, type UploadSession } from '../../../functions/core/ports.ts';

import { OCI_INDEX, OCI_MANIFEST } from '../../support/oci.ts';

let dir: string;
let seq = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sqlite-metadata-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh database file per test. */
function newFile(): string {
  seq += 1;
  return join(dir, `meta-${seq}.db`);
}

function digestOf(n: number | string): string {
  return `sha256:${String(n).padStart(64, '0')}`;
}

function manifest(n: number | string, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  const body = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, n }));
  return {
    digest: digestOf(n), mediaType: OCI_MANIFEST, size: body.byteLength, body,
    blobs: [digestOf(`c${n}`), digestOf(`l${n}`)], manifests: [], createdAt: 1_000, ...extra,
  };
}

function upload(id: string, extra: Partial<UploadSession> = {}): UploadSession {
  return { id, repo: 'r/x', offset: 0, state: '{}', createdAt: 10, updatedAt: 10, expiresAt: 100, ...extra };
}

/** Expected order: SQLite BINARY collation == byte order of the UTF-8 encoding (DynamoDB's too). */
function byteSorted(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('SqliteMetadataStore', () => {
  let file: string;
  let store: SqliteMetadataStore;
  beforeEach(() => {
    file = newFile();
    store = new SqliteMetadataStore(file, { now: () => 0 });
  });
  afterEach(() => {
    store.close();
  });

  it('opens in WAL mode with a schema version, and commits durably (synchronous = FULL)', () => {
    // synchronous is per connection: read it on the store's own.
    const own = (store as unknown as { db: DatabaseSync }).db;
    assert.deepEqual({ ...own.prepare('PRAGMA synchronous').get() }, { synchronous: 2 });
    store.close();
    const db = new DatabaseSync(file);
    try {
      assert.deepEqual({ ...db.prepare('PRAGMA journal_mode').get() }, { journal_mode: 'wal' });
      assert.deepEqual({ ...db.prepare('PRAGMA user_version').get() }, { user_version: 5 });
    } finally {
      db.close();
    }
    store = new SqliteMetadataStore(file, { now: () => 0 }); // reopening an existing schema works
  });

  it('refuses a database written by a newer schema version', () => {
    store.close();
    const db = new DatabaseSync(file);
    db.exec('PRAGMA user_version = 99');
    db.close();
    assert.throws(() => new SqliteMetadataStore(file, { now: () => 0 }), /schema version 99/);
    store = new SqliteMetadataStore(':memory:', { now: () => 0 });
  });

  describe('uploads', () => {
    it('creates, reads and deletes a session', async () => {
      const s = upload('u1', { offset: 5, state: '{"h":"abc"}' });
      await store.createUpload(s);
      assert.deepEqual(await store.getUpload('u1'), s);
      assert.equal(await store.getUpload('nope'), undefined);
      assert.equal(await store.deleteUpload('u1'), true);
      assert.equal(await store.deleteUpload('u1'), false);
      assert.equal(await store.getUpload('u1'), undefined);
    });

    it('refuses a duplicate session id', async () => {
      await store.createUpload(upload('u1'));
      await assert.rejects(store.createUpload(upload('u1')));
    });

    it('a lease is taken only at the stored offset and while no live lease is held', async () => {
      await store.createUpload(upload('u1'));
      const next = { offset: 100, state: 's1', updatedAt: 20, expiresAt: 200 };
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'a', until: 50 }, 10), true);
      assert.deepEqual((await store.getUpload('u1'))?.lease, { holder: 'a', until: 50 });
      // A second request meanwhile is refused, whatever offset it read.
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'b', until: 60 }, 11), false);
      // The holder renews its own lease.
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'a', until: 50 }, 12), true);
      // Only the holder records bytes; recording releases the lease.
      assert.equal(await store.updateUpload('u1', 'b', { offset: 50, state: 'stale', updatedAt: 21, expiresAt: 201 }), false);
      assert.equal(await store.updateUpload('u1', 'a', next), true);
      assert.deepEqual(await store.getUpload('u1'), { ...upload('u1'), ...next });
      assert.equal(await store.updateUpload('u1', 'a', next), false, 'a released lease records nothing');
      // A stale offset cannot take the lease; the current one can.
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'c', until: 70 }, 30), false);
      assert.equal(await store.leaseUpload('u1', 100, { holder: 'c', until: 70 }, 30), true);
      // A lease past its time is void: a crashed holder cannot wedge the session.
      assert.equal(await store.leaseUpload('u1', 100, { holder: 'd', until: 90 }, 69), false);
      assert.equal(await store.leaseUpload('u1', 100, { holder: 'd', until: 90 }, 70), true);
      assert.equal(await store.updateUpload('u1', 'c', { offset: 150, state: 's2', updatedAt: 22, expiresAt: 202 }), false);
      await store.releaseUpload('u1', 'd');
      assert.equal((await store.getUpload('u1'))?.lease, undefined);
      assert.equal((await store.getUpload('u1'))?.offset, 100);
      assert.equal(await store.leaseUpload('missing', 0, { holder: 'e', until: 90 }, 1), false);
      assert.equal(await store.updateUpload('missing', 'e', next), false);
    });

    it('releaseAllLeases voids every lease (start-up after a crash)', async () => {
      await store.createUpload(upload('u1'));
      await store.createUpload(upload('u2'));
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'dead', until: 10_000 }, 1), true);
      assert.equal(store.releaseAllLeases(), 1);
      assert.equal((await store.getUpload('u1'))?.lease, undefined);
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'new', until: 10_000 }, 2), true);
    });

    it('an expired session cannot be leased', async () => {
      await store.createUpload(upload('u1', { expiresAt: 100 }));
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'a', until: 500 }, 100), false);
      assert.equal(await store.leaseUpload('u1', 0, { holder: 'a', until: 500 }, 99), true);
    });

    it('the lease holds across two connections to the same file', async () => {
      const other = new SqliteMetadataStore(file, { now: () => 0 });
      try {
        await store.createUpload(upload('u1'));
        assert.equal(await other.leaseUpload('u1', 0, { holder: 'b', until: 100 }, 1), true);
        assert.equal(await store.leaseUpload('u1', 0, { holder: 'a', until: 100 }, 1), false);
        assert.equal(await other.updateUpload('u1', 'b', { offset: 7, state: 'b', updatedAt: 11, expiresAt: 101 }), true);
        assert.equal((await store.getUpload('u1'))?.state, 'b');
      } finally {
        other.close();
      }
    });

    it('lists expired sessions oldest first, strictly before now, up to limit', async () => {
      await store.createUpload(upload('late', { expiresAt: 300 }));
      await store.createUpload(upload('b', { expiresAt: 100 }));
      await store.createUpload(upload('a', { expiresAt: 100 }));
      await store.createUpload(upload('first', { expiresAt: 50 }));
      await store.createUpload(upload('edge', { expiresAt: 200 }));
      assert.deepEqual((await store.listExpiredUploads(200, 10)).map((s) => s.id), ['first', 'a', 'b']);
      assert.deepEqual((await store.listExpiredUploads(200, 2)).map((s) => s.id), ['first', 'a']);
      assert.deepEqual(await store.listExpiredUploads(200, 0), []);
      assert.deepEqual(await store.listExpiredUploads(50, 10), []);
      const all = await store.listExpiredUploads(1_000, 10);
      assert.deepEqual(all.map((s) => s.id), ['first', 'a', 'b', 'edge', 'late']);
      assert.deepEqual(all[0], upload('first', { expiresAt: 50 }));
    });
  });

  describe('blobs', () => {
    it('first writer wins', async () => {
      const first = { digest: digestOf(1), size: 10, location: 'blobs/first', createdAt: 5 };
      assert.deepEqual(await store.putBlob(first), first);
      // A later verified copy is told where the first one lives (and deletes its own bytes).
      assert.deepEqual(await store.putBlob({ digest: digestOf(1), size: 10, location: 'blobs/second', createdAt: 6 }), first);
      assert.deepEqual(await store.getBlob(digestOf(1)), { digest: digestOf(1), size: 10, location: 'blobs/first', createdAt: 5 });
      assert.equal(await store.getBlob(digestOf(2)), undefined);
    });

    it('a blob is visible from a repository only through a link', async () => {
      const d = digestOf(1);
      await store.linkBlob('r/x', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 });
      assert.equal(await store.getLinkedBlob('r/x', d), undefined, 'link without blob record');
      assert.equal(await store.repositoryExists('r/x'), true, 'linkBlob creates the repository');
      await store.putBlob({ digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.deepEqual(await store.getLinkedBlob('r/x', d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.equal(await store.getLinkedBlob('r/y', d), undefined, 'blob without link');
      await store.linkBlob('r/x', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 }); // idempotent
      await store.linkBlob('r/y', { digest: d, size: 10, location: `blobs/${d}`, createdAt: 0 });
      assert.equal(await store.unlinkBlob('r/x', d), true);
      assert.equal(await store.unlinkBlob('r/x', d), false);
      assert.equal(await store.getLinkedBlob('r/x', d), undefined);
      assert.deepEqual(await store.getLinkedBlob('r/y', d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 });
      assert.deepEqual(await store.getBlob(d), { digest: d, size: 10, location: `blobs/${d}`, createdAt: 5 }, 'unlink keeps the global record');
    });
  });

  describe('manifests and tags', () => {
    it('round-trips every field, byte-exact body as Uint8Array', async () => {
      const body = new Uint8Array([0, 1, 2, 255, 0x7b, 0x7d]);
      const m = manifest(1, {
        body, size: body.byteLength, subject: digestOf(9), artifactType: 'application/x.sig',
        annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', a: 'b' },
        blobs: [digestOf('c'), digestOf('l1'), digestOf('l2')], createdAt: 1234,
      });
      await store.putManifest('r/x', m, []);
      const got = await store.getManifest('r/x', m.digest);
      assert.ok(got);
      assert.ok(got.body instanceof Uint8Array);
      assert.deepEqual([...got.body], [...body]);
      assert.deepEqual({ ...got, body: [...got.body] }, { ...m, body: [...body] });
      assert.equal(await store.getManifest('r/y', m.digest), undefined);
      assert.equal(await store.getManifest('r/x', digestOf(2)), undefined);
    });

    it('leaves optional fields absent rather than null', async () => {
      const idx = manifest(2, { mediaType: OCI_INDEX, blobs: [], manifests: [digestOf(3), digestOf(4)] });
      await store.putManifest('r/x', idx, ['v1']);
      for (const got of [await store.getManifest('r/x', idx.digest), await store.getTaggedManifest('r/x', 'v1')]) {
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
      await store.putManifest('r/x', manifest(1), ['latest']);
      assert.equal((await store.getTaggedManifest('r/x', 'latest'))?.digest, digestOf(1));
      await store.putManifest('r/x', manifest(2), ['latest']);
      assert.equal((await store.getTaggedManifest('r/x', 'latest'))?.digest, digestOf(2));
      assert.ok(await store.getManifest('r/x', digestOf(1)), 'old manifest stays when its tag moves');
      assert.equal(await store.getTaggedManifest('r/y', 'latest'), undefined);
      assert.equal(await store.getTaggedManifest('r/x', 'nope'), undefined);
      assert.equal(await store.deleteTag('r/x', 'latest'), true);
      assert.equal(await store.deleteTag('r/x', 'latest'), false);
      assert.equal(await store.getTaggedManifest('r/x', 'latest'), undefined);
      assert.ok(await store.getManifest('r/x', digestOf(2)), 'deleteTag keeps the manifest');
    });

    it('putManifest is idempotent and never overwrites a stored manifest', async () => {
      await store.putManifest('r/x', manifest(1, { createdAt: 1 }), []);
      await store.putManifest('r/x', manifest(1, { createdAt: 2, annotations: { x: 'y' } }), ['v1']);
      await store.putManifest('r/x', manifest(1, { createdAt: 3 }), ['v2']);
      const got = await store.getManifest('r/x', digestOf(1));
      assert.equal(got?.createdAt, 1);
      assert.equal(got && 'annotations' in got, false);
      assert.deepEqual(await store.listTags('r/x', 10), { items: ['v1', 'v2'], more: false });
      assert.equal((await store.getTaggedManifest('r/x', 'v2'))?.digest, digestOf(1));
    });

    it('deleteManifest removes its tags and referrer entry, nothing else', async () => {
      const subject = manifest(1);
      const sig = manifest(2, { subject: subject.digest, artifactType: 'application/x.sig' });
      for (const repo of ['r/x', 'r/y']) {
        await store.putManifest(repo, subject, ['v1']);
        await store.putManifest(repo, sig, ['sig-a']);
        await store.putManifest(repo, sig, ['sig-b']);
        await store.putManifest(repo, manifest(3), ['other']);
        await store.linkBlob(repo, { digest: digestOf('l2'), size: 1, location: `blobs/${digestOf('l2')}`, createdAt: 0 });
      }
      assert.equal(await store.deleteManifest('r/x', sig.digest), true);
      assert.equal(await store.deleteManifest('r/x', sig.digest), false);
      assert.equal(await store.getManifest('r/x', sig.digest), undefined);
      assert.equal(await store.getTaggedManifest('r/x', 'sig-a'), undefined);
      assert.deepEqual(await store.listTags('r/x', 10), { items: ['other', 'v1'], more: false });
      assert.deepEqual((await store.listReferrers('r/x', subject.digest, 1000)).items, []);
      // The other repository is untouched.
      assert.deepEqual(await store.listTags('r/y', 10), { items: ['other', 'sig-a', 'sig-b', 'v1'], more: false });
      assert.equal((await store.listReferrers('r/y', subject.digest, 1000)).items.length, 1);
      assert.equal((await store.getTaggedManifest('r/y', 'sig-b'))?.digest, sig.digest);
      // Blob links are not the manifest's to delete.
      await store.putBlob({ digest: digestOf('l2'), size: 1, location: `blobs/${digestOf('l2')}`, createdAt: 1 });
      assert.ok(await store.getLinkedBlob('r/x', digestOf('l2')));
    });

    it('repositories stay listed after their content is deleted', async () => {
      await store.putManifest('r/x', manifest(1), ['v1']);
      await store.deleteManifest('r/x', digestOf(1));
      assert.equal(await store.repositoryExists('r/x'), true);
      assert.deepEqual(await store.listRepositories(10), { items: ['r/x'], more: false });
      assert.deepEqual(await store.listTags('r/x', 10), { items: [], more: false });
      assert.equal(await store.repositoryExists('r/none'), false);
    });

    it('putManifest rolls back completely when a step fails mid-transaction', async () => {
      // A trigger on the same file makes the tag write (the last step) fail, after the repository
      // and manifest rows were already inserted inside the transaction.
      const saboteur = new DatabaseSync(file);
      try {
        saboteur.exec(`CREATE TRIGGER fail_tag BEFORE INSERT ON tags WHEN NEW.tag = 'boom'
          BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
      } finally {
        saboteur.close();
      }
      await assert.rejects(store.putManifest('r/new', manifest(1), ['boom']), /injected failure/);
      assert.equal(await store.repositoryExists('r/new'), false);
      assert.equal(await store.getManifest('r/new', digestOf(1)), undefined);
      assert.deepEqual(await store.listRepositories(10), { items: [], more: false });
      // The connection is usable afterwards, and the same call without the failing tag succeeds.
      await store.putManifest('r/new', manifest(1), ['ok']);
      assert.equal((await store.getTaggedManifest('r/new', 'ok'))?.digest, digestOf(1));
    });
  });

  describe('referrers', () => {
    it('lists descriptors of manifests with that subject in the repo, by digest', async () => {
      const subject = digestOf('s');
      await store.putManifest('r/x', manifest('f', { subject, artifactType: 'application/x.sbom', annotations: { k: 'v' } }), []);
      await store.putManifest('r/x', manifest('a', { subject }), []);
      await store.putManifest('r/x', manifest('c', { subject: digestOf('other') }), []);
      await store.putManifest('r/x', manifest('d'), []);
      await store.putManifest('r/y', manifest('b', { subject }), []);
      const m = manifest('a');
      assert.deepEqual((await store.listReferrers('r/x', subject, 1000)).items, [
        { mediaType: OCI_MANIFEST, digest: digestOf('a'), size: m.size },
        { mediaType: OCI_MANIFEST, digest: digestOf('f'), size: manifest('f').size, artifactType: 'application/x.sbom', annotations: { k: 'v' } },
      ]);
      const [first] = (await store.listReferrers('r/x', subject, 1000)).items;
      assert.ok(first);
      assert.deepEqual(Object.keys(first).sort(), ['digest', 'mediaType', 'size']);
      assert.deepEqual((await store.listReferrers('r/z', subject, 1000)).items, []);
    });
  });

  describe('pagination', () => {
    const names = ['a_1', 'b', 'A', 'a.1', 'B', 'a', 'a-1'];
    const expected = ['A', 'B', 'a', 'a-1', 'a.1', 'a_1', 'b'];

    async function walk(list: (limit: number, last?: string) => Promise<{ items: string[]; more: boolean }>, limit: number) {
      const seen: string[] = [];
      let last: string | undefined;
      for (let i = 0; i < 100; i++) {
        const p = await list(limit, last);
        assert.ok(p.items.length <= limit);
        seen.push(...p.items);
        if (!p.more) return seen;
        assert.equal(p.items.length, limit, 'a page before the end is full');
        last = p.items.at(-1);
      }
      throw new Error('pagination did not terminate');
    }

    it('lists tags in byte order with limit, last and more', async () => {
      assert.deepEqual(byteSorted(names), expected);
      for (const [i, tag] of names.entries()) await store.putManifest('r/x', manifest(i), [tag]);
      await store.putManifest('r/other', manifest(99), ['zz']);
      const list = (limit: number, last?: string) => store.listTags('r/x', limit, last);
      assert.deepEqual(await list(100), { items: expected, more: false });
      assert.deepEqual(await list(7), { items: expected, more: false });
      assert.deepEqual(await list(6), { items: expected.slice(0, 6), more: true });
      assert.deepEqual(await list(2, 'a'), { items: ['a-1', 'a.1'], more: true });
      assert.deepEqual(await list(2, 'a.1'), { items: ['a_1', 'b'], more: false });
      assert.deepEqual(await list(10, 'a0'), { items: ['a_1', 'b'], more: false }, 'last need not exist');
      assert.deepEqual(await list(10, 'b'), { items: [], more: false });
      assert.deepEqual(await list(0), { items: [], more: true });
      assert.deepEqual(await list(0, 'a_1'), { items: [], more: true });
      assert.deepEqual(await list(0, 'b'), { items: [], more: false });
      for (const limit of [1, 2, 3, 7]) assert.deepEqual(await walk(list, limit), expected);
      assert.deepEqual(await store.listTags('r/empty', 5), { items: [], more: false });
    });

    it('lists repositories in byte order, including names with "/"', async () => {
      const repos = ['library/ubuntu', 'library', 'library-x/a', 'library/a/b', 'Library', 'a/b/c', 'a', 'a-b', 'a0'];
      const order = byteSorted(repos);
      assert.deepEqual(order, ['Library', 'a', 'a-b', 'a/b/c', 'a0', 'library', 'library-x/a', 'library/a/b', 'library/ubuntu']);
      for (const [i, repo] of repos.entries()) {
        if (i % 2 === 0) await store.putManifest(repo, manifest(i), []);
        else await store.linkBlob(repo, { digest: digestOf(i), size: 1, location: `blobs/${digestOf(i)}`, createdAt: 0 });
      }
      await store.putManifest('a', manifest(100), []); // an existing repository is not listed twice
      assert.deepEqual(await store.listRepositories(100), { items: order, more: false });
      assert.deepEqual(await store.listRepositories(3, 'a'), { items: ['a-b', 'a/b/c', 'a0'], more: true });
      assert.deepEqual(await store.listRepositories(2, 'library/a/b'), { items: ['library/ubuntu'], more: false });
      assert.deepEqual(await store.listRepositories(0), { items: [], more: true });
      assert.deepEqual(await store.listRepositories(0, 'library/ubuntu'), { items: [], more: false });
      for (const limit of [1, 2, 4, 9]) assert.deepEqual(await walk((l, last) => store.listRepositories(l, last), limit), order);
    });

    it('orders by UTF-8 bytes, not UTF-16 code units', async () => {
      // U+FFFD is EF BF BD in UTF-8, U+1F600 is F0 9F 98 80; in UTF-16 the surrogate D83D sorts first.
      const tags = ['\u{1F600}', '\uFFFD', 'z'];
      for (const [i, tag] of tags.entries()) await store.putManifest('r/x', manifest(i), [tag]);
      assert.deepEqual((await store.listTags('r/x', 10)).items, ['z', '\uFFFD', '\u{1F600}']);
      assert.deepEqual((await store.listTags('r/x', 10, '\uFFFD')).items, ['\u{1F600}']);
    });
  });

  it('migrates a version 3 database: existing tags get their manifest\'s creation time as tag time, and no pull', async () => {
    await store.putManifest('r/old', { ...manifest(7), createdAt: 1234 }, ['v1']);
    store.close();
    // What a data dir of the previous release holds: tags without tag times, schema version 3.
    const db = new DatabaseSync(file);
    db.exec('ALTER TABLE tags DROP COLUMN tagged_at; ALTER TABLE tags DROP COLUMN pulled_at; PRAGMA user_version = 3');
    db.close();
    store = new SqliteMetadataStore(file, { now: () => 0 });
    assert.deepEqual((await store.gcRepository('r/old')).tags.get('v1'), { digest: digestOf(7), taggedAt: 1234 });
    assert.equal(await store.recordPull('r/old', 'v1', digestOf(7), 5 * 86_400_000), true);
    assert.equal(await store.deleteTag('r/old', 'v1', { digest: digestOf(7), taggedAt: 1234, pulledAt: 5 * 86_400_000 }), true);
  });

  it('persists across close and reopen', async () => {
    await store.createUpload(upload('u1', { offset: 3 }));
    await store.putBlob({ digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 5 });
    await store.linkBlob('r/x', { digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 0 });
    await store.putManifest('r/x', manifest(2, { subject: digestOf(3), annotations: { a: 'b' } }), ['v1']);
    store.close();
    store = new SqliteMetadataStore(file, { now: () => 0 });
    assert.deepEqual(await store.getUpload('u1'), upload('u1', { offset: 3 }));
    assert.deepEqual(await store.getLinkedBlob('r/x', digestOf(1)), { digest: digestOf(1), size: 10, location: `blobs/${digestOf(1)}`, createdAt: 5 });
    const got = await store.getTaggedManifest('r/x', 'v1');
    assert.deepEqual(got && { ...got, body: [...got.body] }, { ...manifest(2, { subject: digestOf(3), annotations: { a: 'b' } }), body: [...manifest(2).body] });
    assert.deepEqual((await store.listReferrers('r/x', digestOf(3), 1000)).items.map((d) => d.digest), [digestOf(2)]);
    assert.deepEqual(await store.listRepositories(10), { items: ['r/x'], more: false });
  });

  it('a full database (or disk) is StorageFullError, on plain writes and inside transactions; reads go on', async () => {
    // The store's own connection is capped at its current size, as if the disk had filled up.
    const db = (store as unknown as { db: DatabaseSync }).db;
    const { page_count: pages } = db.prepare('PRAGMA page_count').get() as { page_count: number };
    db.exec(`PRAGMA max_page_count = ${pages}`);
    const big = (n: number) => upload(`full-${n}`, { state: 'x'.repeat(3000) });
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) await store.createUpload(big(i)).catch((e: unknown) => (failure = e));
    assert.ok(failure instanceof StorageFullError, `got ${String(failure)}`);
    await assert.rejects(store.putManifest('r/full', manifest('full', { body: new Uint8Array(50_000) }), ['v1']), StorageFullError);
    assert.equal(await store.getTaggedManifest('r/full', 'v1'), undefined, 'the failed transaction left nothing');
    assert.equal(await store.repositoryExists('r/full'), false);
  });

  it('works in memory', async () => {
    const mem = new SqliteMetadataStore(':memory:', { now: () => 0 });
    try {
      await mem.putManifest('r/x', manifest(1), ['v1']);
      assert.equal((await mem.getTaggedManifest('r/x', 'v1'))?.digest, digestOf(1));
    } finally {
      mem.close();
    }
  });
});
