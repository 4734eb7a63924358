// What a GC run needs of the DynamoDB metadata store (GcMetadataStore, functions/core/ports.ts). Marks
// live in the `gcm` attribute (epoch ms). Round trips: a repository is one Query of its partition
// (more pages past 1 MB); blob records come from a consistent Scan filtered to `BLOB#` partitions;
// every mark, unmark and delete is one conditional write (a manifest's delete one transaction).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { GcTarget, TagState } from '../../core/ports.ts';
import type { GcBlob, GcLink, GcManifest, GcRepository } from '../../core/gc-ports.ts';
import type { DynamoOps } from './dynamo-ops.ts';
import { toTagState, type Item, type ManifestFields } from './items.ts';
import { deleteCountedLink } from './dynamo-quota.ts';
import { LINK, MANIFEST, TAG, blobKey, linkKey, manifestKey, referrerKey, repoPk, type Key } from './keys.ts';
import type { ManifestBodyStore } from './manifest-body-store.ts';

/** Items one Scan request of the blob records evaluates (DynamoDB stops earlier at 1 MB). */
const SCAN_ITEMS = 1000;

const keyOf = (t: GcTarget): Key => (t.kind === 'blob' ? blobKey(t.digest) : t.kind === 'link' ? linkKey(t.repo, t.digest) : manifestKey(t.repo, t.digest));

/** The attribute that says when an item was last written, per kind (older items fall back to `created`). */
const TIME_ATTRIBUTE = { manifest: 'created', link: 'lt', blob: 'tch' } as const;

const isConditionFailure = (e: unknown) => e instanceof ConditionalCheckFailedException || (e as { name?: string }).name === 'ConditionalCheckFailedException';

async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

const mark = (item: Item) => (item.gcm === undefined ? {} : { markedAt: item.gcm as number });

export class DynamoGc {
  private readonly ops: DynamoOps;
  private readonly bodies: ManifestBodyStore | undefined;

  constructor(ops: DynamoOps, bodies: ManifestBodyStore | undefined) {
    this.ops = ops;
    this.bodies = bodies;
  }

  /** The repository's partition, every page of it. */
  async gcRepository(repo: string): Promise<GcRepository> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.ops.doc.send(new QueryCommand({
        TableName: this.ops.table, KeyConditionExpression: '#pk = :pk', ConsistentRead: true,
        ExpressionAttributeNames: {
          '#pk': 'pk', '#sk': 'sk', '#d': 'digest', '#s': 'size', '#c': 'created', '#b': 'blobs', '#k': 'kids', '#j': 'subj', '#m': 'gcm', '#lt': 'lt', '#bk': 'bodyKey', '#fk': 'fieldsKey', '#tt': 'tt', '#pa': 'pa',
        },
        ProjectionExpression: '#sk, #d, #s, #c, #b, #k, #j, #m, #lt, #bk, #fk, #tt, #pa',
        ExpressionAttributeValues: { ':pk': repoPk(repo) },
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    const tags = new Map<string, TagState>();
    const manifests: GcManifest[] = [];
    const links: GcLink[] = [];
    for (const item of items) {
      const sk = item.sk as string;
      if (sk.startsWith(TAG)) tags.set(sk.slice(TAG.length), toTagState(item));
      else if (sk.startsWith(LINK)) links.push({ digest: item.digest as string, size: item.size as number, linkedAt: (item.lt ?? item.created) as number, ...mark(item) });
      else if (sk.startsWith(MANIFEST)) manifests.push(await this.manifestOf(item));
    }
    return { repo, tags, manifests, links };
  }

  private async manifestOf(item: Item): Promise<GcManifest> {
    let refs = { blobs: (item.blobs ?? []) as string[], manifests: (item.kids ?? []) as string[] };
    if (item.fieldsKey !== undefined && this.bodies !== undefined) {
      const fields = JSON.parse(new TextDecoder().decode(await this.bodies.get(item.fieldsKey as string))) as ManifestFields;
      refs = { blobs: fields.blobs, manifests: fields.manifests };
    }
    const stored = [item.bodyKey, item.fieldsKey].filter((k): k is string => typeof k === 'string');
    return {
      digest: item.digest as string, size: item.size as number, createdAt: item.created as number, ...refs,
      ...(item.subj === undefined ? {} : { subject: item.subj as string }), ...mark(item), stored,
    };
  }

  /**
   * Scans the table for blob records until `limit` are found or the table ends; the cursor is the
   * scan's position. Each request evaluates SCAN_ITEMS items (blob records are a fraction of the
   * table): the read units are the same as with smaller requests, the requests ten times fewer than
   * at 100 (docs/gc.md), and a page may hold more than `limit` records.
   */
  async gcBlobs(limit: number, cursor?: string): Promise<{ items: GcBlob[]; cursor?: string }> {
    const items: GcBlob[] = [];
    let start = cursor === undefined ? undefined : (JSON.parse(cursor) as Record<string, unknown>);
    do {
      const out = await this.ops.doc.send(new ScanCommand({
        TableName: this.ops.table, ConsistentRead: true, Limit: Math.max(limit, SCAN_ITEMS),
        FilterExpression: 'begins_with(#pk, :b)',
        ExpressionAttributeNames: { '#pk': 'pk', '#d': 'digest', '#s': 'size', '#l': 'loc', '#c': 'created', '#t': 'tch', '#m': 'gcm' },
        ExpressionAttributeValues: { ':b': 'BLOB#' },
        ProjectionExpression: '#d, #s, #l, #c, #t, #m',
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }));
      for (const item of out.Items ?? []) {
        items.push({ digest: item.digest as string, size: item.size as number, location: item.loc as string, createdAt: item.created as number, touchedAt: (item.tch ?? item.created) as number, ...mark(item) });
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined && items.length < limit);
    return start === undefined ? { items } : { items, cursor: JSON.stringify(start) };
  }

  gcMark(t: GcTarget, at: number, notAfter: number): Promise<boolean> {
    const time = TIME_ATTRIBUTE[t.kind];
    return conditional(this.ops.doc.send(new UpdateCommand({
      TableName: this.ops.table, Key: keyOf(t), UpdateExpression: 'SET #m = :at',
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#m) AND ((attribute_exists(#t) AND #t <= :na) OR (attribute_not_exists(#t) AND #c <= :na))',
      ExpressionAttributeNames: { '#pk': 'pk', '#m': 'gcm', '#t': time, '#c': 'created' },
      ExpressionAttributeValues: { ':at': at, ':na': notAfter },
    })));
  }

  gcUnmark(t: GcTarget): Promise<boolean> {
    return conditional(this.ops.doc.send(new UpdateCommand({
      TableName: this.ops.table, Key: keyOf(t), UpdateExpression: 'REMOVE #m',
      ConditionExpression: 'attribute_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk', '#m': 'gcm' },
    })));
  }

  async gcDelete(t: GcTarget, markedAt: number): Promise<boolean> {
    const onMark = { ConditionExpression: '#m = :m', ExpressionAttributeNames: { '#m': 'gcm' }, ExpressionAttributeValues: { ':m': markedAt } };
    // A link goes with its project's count (dynamo-quota.ts).
    if (t.kind === 'link') return deleteCountedLink(this.ops, t.repo, t.digest, markedAt);
    if (t.kind !== 'manifest') return conditional(this.ops.doc.send(new DeleteCommand({ TableName: this.ops.table, Key: keyOf(t), ...onMark })));
    const { Item: head } = await this.ops.doc.send(new GetCommand({
      TableName: this.ops.table, Key: keyOf(t), ConsistentRead: true, ProjectionExpression: '#j, #m', ExpressionAttributeNames: { '#j': 'subj', '#m': 'gcm' },
    }));
    if (head?.gcm !== markedAt) return false;
    const subject = head.subj as string | undefined;
    // Tags are added only through putManifest, which removes the mark: the mark condition covers them.
    return this.ops.transact([
      { Delete: { TableName: this.ops.table, Key: keyOf(t), ...onMark } },
      ...(subject === undefined ? [] : [
        { Delete: { TableName: this.ops.table, Key: referrerKey(t.repo, subject, t.digest) } },
        // A referrer goes only while its subject is gone or condemned too.
        {
          ConditionCheck: {
            TableName: this.ops.table, Key: manifestKey(t.repo, subject),
            ConditionExpression: 'attribute_not_exists(#pk) OR attribute_exists(#m)', ExpressionAttributeNames: { '#pk': 'pk', '#m': 'gcm' },
          },
        },
      ]),
    ]);
  }
}
