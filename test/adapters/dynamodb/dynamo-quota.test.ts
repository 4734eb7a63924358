// Storage quotas on DynamoDB beyond the contract (dynamo-quota.ts): links written before counting
// (no `q`) are counted when written again and not uncounted when deleted; a process whose guess of
// a link's or a project's state is stale learns from the refused write and gets it right the
// second time; every count stays exact. And a repository's size (repositorySize): one Query of its
// link items (`B#<digest>`, the size alone projected), read until maxLinks links; complete: false
// when it stopped before the last.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { countCalls, type CallCounts } from '../../../functions/aws/call-counter.ts';
import { QuotaExceededError } from '../../../functions/core/quota-ports.ts';
import { blob, byteOrder, linked } from '../../contract/fixtures.ts';
import { repositorySizeCases, sizeOf } from '../../support/repository-size-cases.ts';
import { startDynamoLocal, type DynamoLocal } from '../../support/dynamodb-local.ts';

let dynamo: DynamoLocal;
let client: DynamoDBClient;
let tableName: string;
let ddb: CallCounts;
let store: DynamoMetadataStore;

beforeAll(async () => {
  dynamo = await startDynamoLocal();
  client = dynamo.client();
  ddb = countCalls(client);
}, 90_000);
afterAll(async () => dynamo?.stop());
beforeEach(async () => {
  tableName = await dynamo.createTable();
  store = fresh();
});

const fresh = () => new DynamoMetadataStore({ client, tableName });
const sized = (size: number) => ({ ...blob(), size });

/** A link as the code before quotas wrote it: no `q`, nothing counted. */
async function legacyLink(repo: string, b: { digest: string; size: number; location: string; createdAt: number }): Promise<void> {
  await client.send(new PutItemCommand({
    TableName: tableName,
    Item: { pk: { S: `R#${repo}` }, sk: { S: `B#${b.digest}` }, digest: { S: b.digest }, size: { N: String(b.size) }, loc: { S: b.location }, created: { N: String(b.createdAt) } },
  }));
}

it('a link written before counting is counted when written again, and a delete of an uncounted link uncounts nothing', async () => {
  const store = fresh();
  const a = sized(700), b = sized(300);
  await store.putBlob(a);
  await store.putBlob(b);
  await store.linkBlob('team/x', b); // registers the repository
  await legacyLink('team/old', a);
  await legacyLink('team/gone', b);
  expect(await store.projectUsage('team')).toEqual({ bytes: 300, blobs: 1 });
  // This process guesses "absent": the refusal returns the legacy item, the second write counts it
  // (each attempt reads the catalog entry of a repository this process has not seen registered).
  ddb.reset();
  await store.linkBlob('team/old', a);
  expect(ddb.snapshot()).toEqual({ GetItem: 2, TransactWriteItems: 2 });
  expect(await store.projectUsage('team')).toEqual({ bytes: 1000, blobs: 2 });
  // Written again: counted already, nothing added.
  await store.linkBlob('team/old', a);
  expect(await store.projectUsage('team')).toEqual({ bytes: 1000, blobs: 2 });
  // The legacy link of b was never counted: deleting it leaves b counted (team/x links it).
  expect(await store.unlinkBlob('team/gone', b.digest)).toBe(true);
  expect(await store.projectUsage('team')).toEqual({ bytes: 1000, blobs: 2 });
  expect(await store.unlinkBlob('team/old', a.digest)).toBe(true);
  expect(await store.projectUsage('team')).toEqual({ bytes: 300, blobs: 1 });
  // A GC delete of a legacy link too.
  await legacyLink('team/gc', a);
  const t = { kind: 'link' as const, repo: 'team/gc', digest: a.digest };
  expect(await store.gcMark(t, 5, Date.now() + 60_000)).toBe(true);
  expect(await store.gcDelete(t, 5)).toBe(true);
  expect(await store.projectUsage('team')).toEqual({ bytes: 300, blobs: 1 });
});

it('a stale guess (another process linked the blob in the project, or deleted it) costs one refused write, never a wrong count', async () => {
  const one = fresh(), two = fresh();
  const a = sized(500);
  await one.putBlob(a);
  await one.linkBlob('p/a', a);
  await two.linkBlob('p/b', a); // two guessed "new to the project": refused, then refs + 1
  expect(await one.projectUsage('p')).toEqual({ bytes: 500, blobs: 1 });
  // one still believes p/a's link is counted and the project counts a; two deletes both links.
  expect(await two.unlinkBlob('p/a', a.digest)).toBe(true);
  expect(await two.unlinkBlob('p/b', a.digest)).toBe(true);
  expect(await one.projectUsage('p')).toEqual({ bytes: 0, blobs: 0 });
  // one's guesses are both wrong now: each refusal corrects one, then the quota refuses (a is larger than it).
  ddb.reset();
  const refused = await one.linkBlob('p/a', a, 400).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(QuotaExceededError);
  expect(refused).toMatchObject({ project: 'p', used: 0, limit: 400, size: 500 });
  expect(ddb.snapshot()).toEqual({ TransactWriteItems: 3 });
  await one.linkBlob('p/a', a, 500);
  expect(await one.projectUsage('p')).toEqual({ bytes: 500, blobs: 1 });
}, 60_000);

repositorySizeCases(() => store);

it('a repository\'s size: one Query; past maxLinks it stops, with the links read (in digest order) and complete: false', async () => {
  const blobs = await Promise.all([1, 2, 3, 4, 5].map(() => linked(store, 'team/many')));
  blobs.sort((a, b) => byteOrder(a.digest, b.digest));
  const sum = (n: number) => blobs.slice(0, n).reduce((total, b) => total + b.size, 0);
  ddb.reset();
  expect(await sizeOf(store, 'team/many')).toEqual({ bytes: sum(5), blobs: 5, complete: true });
  expect(ddb.snapshot()).toEqual({ Query: 1 });
  expect(await sizeOf(store, 'team/many', 5)).toEqual({ bytes: sum(5), blobs: 5, complete: true });
  expect(await sizeOf(store, 'team/many', 4)).toEqual({ bytes: sum(4), blobs: 4, complete: false });
  expect(await sizeOf(store, 'team/many', 2)).toEqual({ bytes: sum(2), blobs: 2, complete: false });
  expect(await sizeOf(store, 'team/many', 0)).toEqual({ bytes: 0, blobs: 0, complete: false });
});
