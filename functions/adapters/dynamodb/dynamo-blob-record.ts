// Recording a verified blob and linking it into a repository in one round trip: the blob record
// (first verified copy wins), the link to the winner, and a new repository's catalog entry, in one
// TransactWriteItems. The winner must be known to write its link in the same transaction: either
// this upload is first (Put if absent), or this process has seen the record (a bounded cache) and
// the transaction updates it only if it still names that location (a conditional Update, which also
// takes a GC mark away), so a stale cache can never produce a wrong link. See docs/dynamodb.md ("Recording a blob").
import type { BlobRecord } from '../../core/ports.ts';
import { backoff, MetadataContentionError, type DynamoOps, type TransactItem } from './dynamo-ops.ts';
import type { KnownRepos } from './dynamo-manifests.ts';
import { globalBlobItem, linkItem, repoEntryItem, toBlobFromWire } from './items.ts';
import { blobKey } from './keys.ts';

/** Blob records this process has written or read, by digest (bounded; checked at every use). */
export class BlobCache {
  readonly #records = new Map<string, BlobRecord>();
  get(digest: string): BlobRecord | undefined {
    return this.#records.get(digest);
  }
  set(blob: BlobRecord): void {
    if (this.#records.size >= 10_000) this.#records.clear();
    this.#records.set(blob.digest, blob);
  }
  delete(digest: string): void {
    this.#records.delete(digest);
  }
}

const PK = { '#pk': 'pk' };
/** Attempts before giving up: each lost race teaches the next attempt something (winner, catalog). */
const ATTEMPTS = 6;

export interface RecordDeps {
  ops: DynamoOps;
  repos: KnownRepos;
  cache: BlobCache;
  /** Whether the repository's catalog entry exists (1 GetItem unless this process knows it). */
  registered(repo: string): Promise<boolean>;
  now(): number;
}

/**
 * 1 TransactWriteItems (+ 1 GetItem of the catalog entry while this process has not seen the
 * repository). When another copy of the blob was recorded first and this process had not seen it:
 * one more TransactWriteItems, linking that copy.
 */
export async function recordAndLink(d: RecordDeps, repo: string, blob: BlobRecord): Promise<BlobRecord> {
  let registered = d.repos.has(repo) || (await d.registered(repo));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const known = d.cache.get(blob.digest);
    const winner = known ?? blob;
    const now = d.now();
    // Both branches mark the record as needed now (`tch`) and unmarked: a GC run's conditional delete
    // of a condemned record then fails (docs/gc.md, "Why a racing push loses nothing").
    const record: TransactItem = known
      ? {
          Update: {
            TableName: d.ops.table, Key: blobKey(blob.digest), ConditionExpression: '#loc = :loc',
            UpdateExpression: 'SET #t = :t REMOVE #m',
            ExpressionAttributeNames: { '#loc': 'loc', '#t': 'tch', '#m': 'gcm' }, ExpressionAttributeValues: { ':loc': known.location, ':t': now },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        }
      : {
          Put: {
            TableName: d.ops.table, Item: { ...globalBlobItem(blob), tch: now }, ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: PK, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        };
    const items: TransactItem[] = [record, { Put: { TableName: d.ops.table, Item: { ...linkItem(repo, winner), lt: now } } }];
    if (!registered) {
      items.push({ Put: { TableName: d.ops.table, Item: repoEntryItem(repo, now), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: PK } });
    }
    const reasons = await d.ops.transactOrReasons(items);
    if (reasons === undefined) {
      d.cache.set(winner);
      d.repos.add(repo);
      return winner;
    }
    if (reasons[0]?.Code === 'ConditionalCheckFailed') {
      // Another copy won (or the cached one is gone): the record as it is came back with the failure.
      const current = reasons[0].Item === undefined ? undefined : toBlobFromWire(reasons[0].Item as Record<string, { S?: string; N?: string }>);
      if (current) d.cache.set(current);
      else d.cache.delete(blob.digest);
    }
    // A concurrent request registered the repository first.
    if (reasons[2]?.Code === 'ConditionalCheckFailed') registered = true;
    // Another transaction on the same items: back off before the next attempt.
    if (reasons.some((r) => r.Code === 'TransactionConflict')) await backoff(attempt + 1);
  }
  throw new MetadataContentionError('blob record');
}
