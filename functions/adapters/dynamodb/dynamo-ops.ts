// The DynamoDB calls the metadata store is built from: consistent batch reads that finish their
// unprocessed keys, key-ordered page queries, and transactions whose lost races are retried.
import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../core/ports.ts';
import type { Item } from './items.ts';
import type { Key } from './keys.ts';

/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_MAX = 100;
const UNPROCESSED_ATTEMPTS = 8;
/** How often a store operation re-reads and retries after losing a race before giving up. */
export const RACE_ATTEMPTS = 16;

/** A write kept losing races with other writers (or DynamoDB kept refusing it); retrying later may work. */
export class MetadataContentionError extends Error {
  constructor(what: string) {
    super(`${what}: too many concurrent changes, try again`);
    this.name = 'MetadataContentionError';
  }
}

export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff: 0..min(cap, base * 2^attempt) ms. */
export const backoff = (attempt: number, base = 10, cap = 1000) => sleep(Math.random() * Math.min(cap, base * 2 ** attempt));

/** DynamoDB refuses sort key values longer than 1024 bytes (and empty ones). */
const SORT_KEY_MAX_BYTES = 1024;

/**
 * The ExclusiveStartKey for "strictly after `prefix + after`". A position longer than a sort key may
 * be is cut (at a character boundary) to fit: stored keys (tags, names, digests) are far shorter than
 * the cut, so none lies between the cut and the full value and the page is the same.
 */
function startKey(pk: string, prefix: string, after: string | undefined): Key | undefined {
  if (after === undefined || prefix + after === '') return undefined;
  let sk = '';
  let bytes = 0;
  for (const ch of prefix + after) {
    bytes += Buffer.byteLength(ch);
    if (bytes > SORT_KEY_MAX_BYTES) break;
    sk += ch;
  }
  return { pk, sk };
}

export class DynamoOps {
  readonly doc: DynamoDBDocumentClient;
  readonly table: string;

  constructor(doc: DynamoDBDocumentClient, table: string) {
    this.doc = doc;
    this.table = table;
  }

  /**
   * Consistent reads of `keys`, in calls of at most 100 keys sent in parallel; unprocessed keys are
   * asked again with backoff. Returns the items found (in no particular order).
   */
  async batchGet(keys: Key[], projection?: string[]): Promise<Item[]> {
    if (keys.length === 0) return [];
    const names: Record<string, string> = {};
    const expression = projection?.map((attr, i) => {
      names[`#p${i}`] = attr;
      return `#p${i}`;
    }).join(', ');
    const chunks: Key[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) chunks.push(keys.slice(i, i + BATCH_GET_MAX));
    const results = await Promise.all(chunks.map(async (chunk) => {
      const found: Item[] = [];
      let pending: Key[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= UNPROCESSED_ATTEMPTS) throw new MetadataContentionError('batch read');
        if (attempt > 0) await backoff(attempt);
        const out = await this.doc.send(new BatchGetCommand({
          RequestItems: {
            [this.table]: {
              Keys: pending,
              ConsistentRead: true,
              ...(expression === undefined ? {} : { ProjectionExpression: expression, ExpressionAttributeNames: names }),
            },
          },
        }));
        found.push(...(out.Responses?.[this.table] ?? []));
        pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
      }
      return found;
    }));
    return results.flat();
  }

  /**
   * One page of the items of partition `pk` whose sort key starts with `prefix`, in key order,
   * strictly after sort key `prefix + after`. Asks for limit+1 items (more pages when DynamoDB's
   * 1 MB page limit cuts a response short) to decide `more` exactly.
   */
  async queryPage(pk: string, prefix: string, limit: number, after: string | undefined, projection: string[]): Promise<Page<Item>> {
    const want = Math.max(0, Math.floor(limit)) + 1;
    const items: Item[] = [];
    let start = startKey(pk, prefix, after);
    const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk' };
    const fields = projection.map((attr, i) => {
      names[`#p${i}`] = attr;
      return `#p${i}`;
    });
    do {
      const out = await this.doc.send(new QueryCommand({
        TableName: this.table,
        // An empty prefix (the catalog partition) is the whole partition: DynamoDB refuses '' as a key value.
        KeyConditionExpression: prefix === '' ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: prefix === '' ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
        ProjectionExpression: ['#sk', ...fields].join(', '),
        ConsistentRead: true,
        Limit: want - items.length,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey as Key | undefined;
    } while (items.length < want && start !== undefined);
    return { items: items.slice(0, want - 1), more: items.length === want };
  }

  /**
   * One TransactWriteItems call. True when it applied; false when a condition failed or another
   * transaction on the same items got in the way (the caller re-reads and retries). Other errors throw.
   */
  async transact(items: TransactItem[]): Promise<boolean> {
    return (await this.transactOrReasons(items)) === undefined;
  }

  /**
   * As transact, but a lost race returns the cancellation reasons, one per item in order (with the
   * item as it was where the item asked for it with ReturnValuesOnConditionCheckFailure, in
   * DynamoDB's wire format); undefined when it applied.
   */
  async transactOrReasons(items: TransactItem[]): Promise<CancellationReason[] | undefined> {
    if (items.length === 0) return undefined;
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return undefined;
    } catch (err) {
      if (err instanceof TransactionCanceledException || (err as { name?: string }).name === 'TransactionCanceledException') {
        const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
        const lostRace = reasons.every((r) => r.Code === undefined || r.Code === 'None' || r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict');
        if (lostRace) return reasons;
      }
      throw err;
    }
  }

  /** Runs `attempt` until it returns a value (not undefined), backing off between tries. */
  async retrying<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < RACE_ATTEMPTS; i++) {
      if (i > 0) await backoff(i);
      const result = await attempt();
      if (result !== undefined) return result;
    }
    throw new MetadataContentionError(what);
  }
}
