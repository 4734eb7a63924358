// Round trips per MetadataStore operation on DynamoDB, counted by the SDK middleware in
// functions/aws/call-counter.ts against DynamoDB Local (docs/dynamodb.md lists the same).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { S3ManifestBodyStore } from '../../../functions/adapters/s3/manifest-bodies.ts';
import { countCalls, type CallCounts } from '../../../functions/aws/call-counter.ts';
import { blob, manifest, randomDigest, session } from '../../contract/fixtures.ts';
import { startDynamoLocal, type DynamoLocal } from '../../support/dynamodb-local.ts';
import { startLocalS3, type LocalS3 } from '../../support/s3-local.ts';

let dynamo: DynamoLocal;
let s3: LocalS3;
let client: DynamoDBClient;
let s3client: S3Client;
let tableName: string;
let ddb: CallCounts;
let s3calls: CallCounts;

beforeAll(async () => {
  [dynamo, s3] = await Promise.all([startDynamoLocal(), startLocalS3('manifests')]);
  client = dynamo.client();
  s3client = s3.client();
  ddb = countCalls(client);
  s3calls = countCalls(s3client);
}, 90_000);

afterAll(async () => {
  await Promise.all([dynamo?.stop(), s3?.stop()]);
});

beforeEach(async () => {
  tableName = await dynamo.createTable();
});

/** A store as a fresh Lambda would have it (nothing cached). */
const fresh = () => new DynamoMetadataStore({ client, tableName, bodies: new S3ManifestBodyStore(s3client, s3.bucket) });

/** The DynamoDB (and S3) calls `work` makes; each call made exactly one HTTP attempt. */
async function measure(work: () => Promise<unknown>): Promise<Record<string, number>> {
  ddb.reset();
  s3calls.reset();
  await work();
  expect(ddb.attempts).toEqual(ddb.calls);
  const counts = ddb.snapshot();
  for (const [op, n] of Object.entries(s3calls.snapshot())) counts[`S3.${op}`] = n;
  return counts;
}

describe('DynamoDB round trips per operation', () => {
  it('upload sessions: one call each', async () => {
    const store = fresh();
    const up = session('r');
    const now = Date.now();
    expect(await measure(() => store.createUpload(up))).toEqual({ PutItem: 1 });
    expect(await measure(() => store.getUpload(up.id))).toEqual({ GetItem: 1 });
    expect(await measure(() => store.leaseUpload(up.id, 0, { holder: 'a', until: now + 60_000 }, now))).toEqual({ UpdateItem: 1 });
    expect(await measure(() => store.leaseUpload(up.id, 0, { holder: 'b', until: now + 60_000 }, now))).toEqual({ UpdateItem: 1 });
    expect(await measure(() => store.updateUpload(up.id, 'a', { offset: 5, state: 's', updatedAt: now, expiresAt: now + 60_000 }))).toEqual({ UpdateItem: 1 });
    expect(await measure(() => store.releaseUpload(up.id, 'a'))).toEqual({ UpdateItem: 1 });
    expect(await measure(() => store.deleteUpload(up.id))).toEqual({ DeleteItem: 1 });
  });

  it('takeUpload reads and leases in one UpdateItem, and tells a live lease from no session without another read', async () => {
    const store = fresh();
    const up = session('r');
    await store.createUpload(up);
    const now = Date.now();
    let got: Awaited<ReturnType<DynamoMetadataStore['takeUpload']>>;
    expect(await measure(async () => { got = await store.takeUpload(up.id, { holder: 'a', until: now + 60_000 }, now); })).toEqual({ UpdateItem: 1 });
    expect(got).toMatchObject({ id: up.id, repo: 'r', offset: 0, lease: { holder: 'a', until: now + 60_000 } });
    expect(await measure(async () => { got = await store.takeUpload(up.id, { holder: 'b', until: now + 60_000 }, now); })).toEqual({ UpdateItem: 1 });
    expect(got).toEqual({ busyAt: 0 });
    // Once the lease has run out, another request takes it.
    expect(await store.takeUpload(up.id, { holder: 'b', until: now + 120_000 }, now + 61_000)).toMatchObject({ lease: { holder: 'b' } });
    expect(await measure(async () => { got = await store.takeUpload('00000000-0000-4000-8000-000000000000', { holder: 'c', until: now + 60_000 }, now); })).toEqual({ UpdateItem: 1 });
    expect(got).toBeUndefined();
    // An expired session is absent.
    expect(await store.takeUpload(up.id, { holder: 'c', until: up.expiresAt + 120_000 }, up.expiresAt + 61_000)).toBeUndefined();
  });

  it('claimUpload takes the session out in one DeleteItem, and tells a live lease from no session without another read', async () => {
    const store = fresh();
    const now = Date.now();
    const up = session('r');
    await store.createUpload(up);
    await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 60_000 }, now);
    let got: Awaited<ReturnType<typeof store.claimUpload>>;
    expect(await measure(async () => { got = await store.claimUpload(up.id, now); })).toEqual({ DeleteItem: 1 });
    expect(got).toEqual({ busyAt: 0 });
    // Once the lease has run out the session is taken, without its lease, and is gone from the table.
    expect(await measure(async () => { got = await store.claimUpload(up.id, now + 61_000); })).toEqual({ DeleteItem: 1 });
    expect(got).toEqual(up);
    expect(await store.getUpload(up.id)).toBeUndefined();
    expect(await store.claimUpload(up.id, now)).toBeUndefined();
  });

  it('recordBlob: record, link and a new repository\'s entry in one transaction; a copy recorded first is linked instead', async () => {
    const store = fresh();
    const b = blob();
    // A new repository: its catalog entry read, then record + link + entry in one transaction.
    expect(await measure(async () => expect(await store.recordBlob('r', b)).toEqual(b))).toEqual({ GetItem: 1, TransactWriteItems: 1 });
    expect((await store.getLinkedBlob('r', b.digest))?.location).toBe(b.location);
    expect(await store.repositoryExists('r')).toBe(true);
    // The same digest uploaded again (this process has seen the record): the first copy is checked and linked, in one transaction.
    const dup = { ...b, location: 'blobs/by-upload/second' };
    expect(await measure(async () => expect(await store.recordBlob('s', dup)).toEqual(b))).toEqual({ GetItem: 1, TransactWriteItems: 1 });
    expect((await store.getLinkedBlob('s', b.digest))?.location).toBe(b.location);
    // Another process (cold, repository known): the record is not known there, so the first attempt
    // learns the winner from its failure, the second links it.
    const other = fresh();
    expect(await measure(async () => expect(await other.recordBlob('r', dup)).toEqual(b))).toEqual({ GetItem: 1, TransactWriteItems: 2 });
    expect(await measure(async () => expect(await other.recordBlob('r', dup)).toEqual(b))).toEqual({ TransactWriteItems: 1 });
    // A cached record that is gone (deleted meanwhile) is never linked: the check fails, the upload is recorded.
    const gone = blob();
    await store.recordBlob('r', gone);
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: `BLOB#${gone.digest}` }, sk: { S: 'BLOB' } } }));
    const again = { ...gone, location: 'blobs/by-upload/again' };
    expect(await measure(async () => expect(await store.recordBlob('r', again)).toEqual(again))).toEqual({ TransactWriteItems: 2 });
    expect((await store.getLinkedBlob('r', gone.digest))?.location).toBe(again.location);
  });

  it('recordUpload: the session ended, the blob recorded and linked (and a new repository registered) in one transaction; a session ended already writes nothing', async () => {
    const store = fresh();
    const [a, b, c] = [blob(), blob(), blob()];
    const [sa, sb, sc] = [session('edge'), session('edge'), session('edge')];
    for (const s of [sa, sb, sc]) await store.createUpload(s);
    // A new repository, concurrent recordings: the first registers it, the others wait for that
    // instead of reading the catalog entry or losing the race for it.
    const all = await measure(async () => expect(await Promise.all([store.recordUpload('edge', a, sa.id), store.recordUpload('edge', b, sb.id)])).toEqual([a, b]));
    expect(all).toEqual({ TransactWriteItems: 2 });
    expect(await store.repositoryExists('edge')).toBe(true);
    expect(await store.getUpload(sa.id)).toBeUndefined();
    expect((await store.getLinkedBlob('edge', b.digest))?.location).toBe(b.location);
    // Its session ended already (by the transaction that recorded it): refused, nothing written.
    const other = fresh();
    expect(await measure(async () => expect(await other.recordUpload('edge', { ...a, location: 'blobs/x' }, sa.id)).toBeUndefined())).toEqual({ TransactWriteItems: 1 });
    expect((await store.getLinkedBlob('edge', a.digest))?.location).toBe(a.location);
    // An expired session counts as absent.
    const expired = session('edge', { expiresAt: Date.now() - 1 });
    await store.createUpload(expired);
    expect(await store.recordUpload('edge', blob(), expired.id)).toBeUndefined();
    // A cold process, the blob recorded first by another repository: one batch read prepares what
    // the recording needs (record, catalog entry), then one transaction links the first copy.
    const cold = fresh();
    const dup = { ...c, location: 'blobs/by-upload/dup' };
    await store.recordBlob('first', c);
    expect(await measure(async () => expect(await cold.prepareUploads('edge', [c.digest, a.digest])).toEqual(new Map([[a.digest, a]])))).toEqual({ BatchGetItem: 1 });
    expect(await measure(async () => expect(await cold.recordUpload('edge', dup, sc.id)).toEqual(c))).toEqual({ TransactWriteItems: 1 });
    expect((await store.getLinkedBlob('edge', c.digest))?.location).toBe(c.location);
  });

  it('blobs: HEAD/GET one GetItem, first-wins put one UpdateItem (also when it loses: it touches the record for GC), link one TransactWriteItems when warm (the link and its project\'s count)', async () => {
    const store = fresh();
    const b = blob();
    expect(await measure(() => store.putBlob(b))).toEqual({ UpdateItem: 1 });
    let returned;
    expect(await measure(async () => { returned = await store.putBlob({ ...b, location: 'elsewhere' }); })).toEqual({ UpdateItem: 1 });
    expect(returned).toEqual(b);
    expect(await measure(() => store.getBlob(b.digest))).toEqual({ GetItem: 1 });
    // New repository: read the catalog entry, then link, count and entry in one transaction.
    expect(await measure(() => store.linkBlob('r', b))).toEqual({ GetItem: 1, TransactWriteItems: 1 });
    // This process knows the repository now; the same link again is one transaction too (not counted twice).
    expect(await measure(() => store.linkBlob('r', blob()))).toEqual({ TransactWriteItems: 1 });
    expect(await measure(() => store.linkBlob('r', b))).toEqual({ TransactWriteItems: 1 });
    // Another process (cold): reads the entry once, never rewrites it.
    const other = fresh();
    expect(await measure(() => other.linkBlob('r', blob()))).toEqual({ GetItem: 1, TransactWriteItems: 1 });
    expect(await measure(() => other.linkBlob('r', blob()))).toEqual({ TransactWriteItems: 1 });
    expect(await measure(() => store.getLinkedBlob('r', b.digest))).toEqual({ GetItem: 1 });
    // The usage: one GetItem; with a digest two (in parallel).
    expect(await measure(() => store.projectUsage('r'))).toEqual({ GetItem: 1 });
    expect(await measure(() => store.projectUsage('r', b.digest))).toEqual({ GetItem: 2 });
    // A delete reads the link and its count, then deletes and uncounts in one transaction.
    expect(await measure(() => store.unlinkBlob('r', b.digest))).toEqual({ GetItem: 2, TransactWriteItems: 1 });
  });

  it('manifest PUT: 1 BatchGetItem + 1 TransactWriteItems; a repeated PUT with nothing new only reads', async () => {
    const store = fresh();
    const m = manifest({ subject: randomDigest() });
    expect(await measure(() => store.putManifest('r', m, ['v1', 'latest']))).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    expect(await measure(() => store.putManifest('r', m, ['v1']))).toEqual({ BatchGetItem: 1 });
    const n = manifest();
    expect(await measure(() => store.putManifest('r', n, ['latest']))).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    // Large body: one PutObject to S3 first.
    const big = manifest({ bodySize: 600 * 1024 });
    expect(await measure(() => store.putManifest('r', big, ['big']))).toEqual({ BatchGetItem: 1, TransactWriteItems: 1, 'S3.PutObject': 1 });
  });

  it('manifest GET/HEAD: by tag one GetItem when small; HEAD one GetItem, never S3', async () => {
    const store = fresh();
    const small = manifest(), middle = manifest({ bodySize: 200 * 1024 }), big = manifest({ bodySize: 1024 * 1024 });
    await store.putManifest('r', small, ['small']);
    await store.putManifest('r', middle, ['middle']);
    await store.putManifest('r', big, ['big']);
    const cold = fresh();
    expect(await measure(() => cold.getTaggedManifest('r', 'small'))).toEqual({ GetItem: 1 });
    expect(await measure(() => cold.getTaggedManifest('r', 'middle'))).toEqual({ GetItem: 2 });
    expect(await measure(() => cold.getTaggedManifest('r', 'big'))).toEqual({ GetItem: 2, 'S3.GetObject': 1 });
    expect(await measure(() => cold.getManifest('r', small.digest))).toEqual({ GetItem: 1 });
    expect(await measure(() => cold.getManifest('r', big.digest))).toEqual({ GetItem: 1, 'S3.GetObject': 1 });
    for (const ref of [{ tag: 'big' }, { digest: big.digest }, { tag: 'small' }]) {
      expect(await measure(() => cold.headManifest('r', ref))).toEqual({ GetItem: 1 });
    }
    expect(await measure(() => cold.getTaggedManifest('r', 'absent'))).toEqual({ GetItem: 1 });
  });

  it('reference checks: one BatchGetItem for up to 50 digests (100 keys), two in parallel for 100', async () => {
    const store = fresh();
    const digests = Array.from({ length: 100 }, () => randomDigest());
    expect(await measure(() => store.getReferences('r', digests.slice(0, 50)))).toEqual({ BatchGetItem: 1 });
    expect(await measure(() => store.getReferences('r', digests))).toEqual({ BatchGetItem: 2 });
  });

  it('deletes: manifest 1 GetItem + 1 Query + 1 TransactWriteItems (<= 48 tags); tag 1 GetItem + 1 TransactWriteItems', async () => {
    const store = fresh();
    const m = manifest({ subject: randomDigest() });
    await store.putManifest('r', m, ['a', 'b', 'c']);
    expect(await measure(() => store.deleteTag('r', 'c'))).toEqual({ GetItem: 1, TransactWriteItems: 1 });
    expect(await measure(() => store.deleteManifest('r', m.digest))).toEqual({ GetItem: 1, Query: 1, TransactWriteItems: 1 });
    const many = manifest();
    for (let i = 0; i < 60; i += 10) await store.putManifest('r', many, Array.from({ length: 10 }, (_, j) => `t${i + j}`));
    expect(await measure(() => store.deleteManifest('r', many.digest))).toEqual({ GetItem: 2, Query: 2, TransactWriteItems: 2 });
  });

  it('listings: one Query per page; catalog existence one GetItem when cold, none when warm', async () => {
    const store = fresh();
    const subject = randomDigest();
    for (let i = 0; i < 5; i++) await store.putManifest(`repo${i}`, manifest({ subject }), [`v${i}`, `w${i}`]);
    const cold = fresh();
    expect(await measure(() => cold.listTags('repo1', 1))).toEqual({ Query: 1 });
    expect(await measure(() => cold.listTags('repo1', 10, 'v1'))).toEqual({ Query: 1 });
    expect(await measure(() => cold.listReferrers('repo2', subject, 10))).toEqual({ Query: 1 });
    expect(await measure(() => cold.listRepositories(2, 'repo1'))).toEqual({ Query: 1 });
    expect(await measure(() => cold.repositoryExists('repo3'))).toEqual({ GetItem: 1 });
    expect(await measure(() => cold.repositoryExists('repo3'))).toEqual({});
  });
});
