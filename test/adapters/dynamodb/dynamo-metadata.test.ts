// The MetadataStore contract against DynamoDB Local over the wire (a fresh table per test), with large
// manifest bodies offloaded to s3rver; then what only this adapter has: the S3 offload itself, TTL,
// the table definition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, DescribeTimeToLiveCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { S3ManifestBodyStore } from '../../../functions/adapters/s3/manifest-bodies.ts';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { tableDefinition } from '../../../functions/adapters/dynamodb/table.ts';
import { metadataStoreContract } from '../../contract/metadata-store.contract.ts';
import { blob, manifest, session } from '../../contract/fixtures.ts';
import { startDynamoLocal, type DynamoLocal } from '../../support/dynamodb-local.ts';
import { startLocalS3, type LocalS3 } from '../../support/s3-local.ts';

let dynamo: DynamoLocal;
let s3: LocalS3;

beforeAll(async () => {
  [dynamo, s3] = await Promise.all([startDynamoLocal(), startLocalS3('manifests')]);
}, 90_000);

afterAll(async () => {
  await Promise.all([dynamo?.stop(), s3?.stop()]);
});

async function openStore() {
  const tableName = await dynamo.createTable();
  const client = dynamo.client();
  const s3client = s3.client();
  const store = new DynamoMetadataStore({ client, tableName, bodies: new S3ManifestBodyStore(s3client, s3.bucket) });
  return { store, client, s3client, tableName };
}

metadataStoreContract('DynamoDB Local + s3rver', async () => ({ store: (await openStore()).store }));

describe('DynamoDB adapter specifics', () => {
  it('a tag item written before tag times (no `tt`) reads with its manifest\'s creation time, and its conditional delete holds on that', async () => {
    const { store, client, tableName } = await openStore();
    const m = { ...manifest(), createdAt: 1234 };
    await store.putManifest('legacy/app', { ...m, createdAt: 99_999 }, ['v1']);
    await client.send(new UpdateItemCommand({ TableName: tableName, Key: { pk: { S: 'R#legacy/app' }, sk: { S: 'T#v1' } }, UpdateExpression: 'REMOVE tt SET created = :c', ExpressionAttributeValues: { ':c': { N: '1234' } } }));
    expect((await store.gcRepository('legacy/app')).tags.get('v1')).toEqual({ digest: m.digest, taggedAt: 1234 });
    expect(await store.deleteTag('legacy/app', 'v1', { digest: m.digest, taggedAt: 99_999 })).toBe(false);
    expect(await store.recordPull('legacy/app', 'v1', m.digest, 86_400_000)).toBe(true);
    expect(await store.deleteTag('legacy/app', 'v1', { digest: m.digest, taggedAt: 1234, pulledAt: 86_400_000 })).toBe(true);
    expect((await store.listTags('legacy/app', 10)).items).toEqual([]);
  });

  it('creates the table exactly as defined: pk/sk strings, on demand, no index, TTL on `ttl`', async () => {
    const { client, tableName } = await openStore();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const def = tableDefinition(tableName);
    expect(Table?.KeySchema).toEqual(def.KeySchema);
    expect(Table?.AttributeDefinitions).toEqual(def.AttributeDefinitions);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.GlobalSecondaryIndexes).toBeUndefined();
    expect(Table?.LocalSecondaryIndexes).toBeUndefined();
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
  });

  it('stores a large body in S3 under manifests/<repo>/<digest>; HEAD never reads S3', async () => {
    const { store, s3client } = await openStore();
    const s3calls = countCalls(s3client);
    const m = manifest({ bodySize: 1024 * 1024 });
    await store.putManifest('big/one', m, ['v1']);
    expect(s3calls.snapshot()).toEqual({ PutObject: 1 });
    const obj = await s3client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `manifests/big/one/${m.digest}` }));
    expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(Buffer.from(m.body))).toBe(true);
    s3calls.reset();
    expect(await store.headManifest('big/one', { tag: 'v1' })).toEqual({ digest: m.digest, mediaType: m.mediaType, size: m.size });
    expect(await store.headManifest('big/one', { digest: m.digest })).toEqual({ digest: m.digest, mediaType: m.mediaType, size: m.size });
    expect((await store.getReferences('big/one', [m.digest])).manifests.get(m.digest)?.size).toBe(m.size);
    expect(s3calls.total()).toBe(0);
    expect(Buffer.from((await store.getTaggedManifest('big/one', 'v1'))!.body).equals(Buffer.from(m.body))).toBe(true);
    expect(s3calls.snapshot()).toEqual({ GetObject: 1 });
    // A re-put of the stored manifest writes nothing to S3 again.
    s3calls.reset();
    await store.putManifest('big/one', m, ['v2']);
    expect(s3calls.total()).toBe(0);
  });

  it('keeps small bodies inline (no S3 call) and copies bodies <= 100 KiB into the tag item', async () => {
    const { store, client, s3client, tableName } = await openStore();
    const s3calls = countCalls(s3client);
    const small = manifest({ bodySize: 90 * 1024 });
    const middle = manifest({ bodySize: 300 * 1024 });
    await store.putManifest('r', small, ['small']);
    await store.putManifest('r', middle, ['middle']);
    expect(s3calls.total()).toBe(0);
    const tagItem = async (tag: string) => (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'R#r' }, sk: { S: `T#${tag}` } } }))).Item;
    expect((await tagItem('small'))?.body?.B?.byteLength).toBe(small.size);
    expect((await tagItem('middle'))?.body).toBeUndefined();
    expect((await tagItem('middle'))?.digest?.S).toBe(middle.digest);
  });

  it('puts a manifest just under the tag-copy limit with 10 tags in one transaction (under 4 MB)', async () => {
    const { store, client } = await openStore();
    const m = manifest({ bodySize: 100 * 1024 - 64 });
    const tags = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const calls = countCalls(client);
    await store.putManifest('r', m, tags);
    expect(calls.snapshot()).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    calls.reset();
    for (const tag of tags) expect((await store.getTaggedManifest('r', tag))?.size).toBe(m.size);
    expect(calls.snapshot()).toEqual({ GetItem: 10 });
  });

  it('writes a repository\'s catalog entry once: later links and puts from any process leave it untouched', async () => {
    const { client, tableName } = await openStore();
    const at = (now: number) => new DynamoMetadataStore({ client, tableName, now: () => now });
    await at(1000).linkBlob('team/app', blob());
    const entry = async () => (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'REPOS' }, sk: { S: 'team/app' } } }))).Item;
    expect((await entry())?.created?.N).toBe('1000');
    const later = at(2000);
    await later.linkBlob('team/app', blob());
    await later.putManifest('team/app', manifest(), ['v1']);
    await at(3000).putManifest('team/app', manifest(), ['v2']);
    expect((await entry())?.created?.N).toBe('1000');
    await at(4000).putManifest('team/new', manifest(), []);
    expect(await at(5000).listRepositories(10)).toEqual({ items: ['team/app', 'team/new'], more: false });
  });

  it('pages correctly when DynamoDB\'s 1 MB response limit cuts a query short (tag items carrying ~90 KiB bodies)', async () => {
    const { store, client } = await openStore();
    const queries = countCalls(client);
    const tags = Array.from({ length: 14 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const tag of tags) await store.putManifest('heavy', manifest({ bodySize: 90 * 1024 }), [tag]);
    queries.reset();
    expect(await store.listTags('heavy', 100)).toEqual({ items: tags, more: false });
    expect(queries.calls.Query).toBe(2);
    expect(await store.listTags('heavy', 12)).toEqual({ items: tags.slice(0, 12), more: true });
    expect(await store.listTags('heavy', 13, 't00')).toEqual({ items: tags.slice(1), more: false });
    expect(await store.listTags('heavy', 12, 't00')).toEqual({ items: tags.slice(1, 13), more: true });
  });

  it('accepts any `last`: empty, or longer than a sort key may be', async () => {
    const { store } = await openStore();
    await store.putManifest('r', manifest(), ['a', 'b']);
    expect(await store.listTags('r', 10, '')).toEqual({ items: ['a', 'b'], more: false });
    expect(await store.listTags('r', 10, 'a'.repeat(3000))).toEqual({ items: ['b'], more: false });
    expect(await store.listTags('r', 10, 'é'.repeat(1500))).toEqual({ items: [], more: false });
    expect(await store.listRepositories(10, '')).toEqual({ items: ['r'], more: false });
    expect(await store.listRepositories(10, 'q'.repeat(2000))).toEqual({ items: ['r'], more: false });
    expect(await store.listReferrers('r', manifest().digest, 10, 'x'.repeat(2000))).toEqual({ items: [], more: false });
  });

  it('writes upload sessions with a ttl in epoch seconds, and an expired item still in the table reads as absent', async () => {
    let now = Date.now();
    const { client, tableName } = await openStore();
    const store = new DynamoMetadataStore({ client, tableName, now: () => now });
    const up = session('r', { expiresAt: now + 60_000 });
    await store.createUpload(up);
    const raw = async () => (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: `U#${up.id}` }, sk: { S: 'U' } } }))).Item;
    expect(Number((await raw())?.ttl?.N)).toBe(Math.ceil((now + 60_000) / 1000));
    expect(await store.getUpload(up.id)).toEqual(up);
    now += 60_001;
    expect(await raw()).toBeDefined();
    expect(await store.getUpload(up.id)).toBeUndefined();
    expect(await store.leaseUpload(up.id, 0, { holder: 'a', until: now + 1000 }, now)).toBe(false);
  });
});
