// Recording a verified blob and linking it into a repository in one round trip: the blob record
// (first verified copy wins), the link to the winner, and a new repository's catalog entry, in one
// TransactWriteItems. The winner must be known to write its link in the same transaction: either
// this upload is first (Put if absent), or this process has seen the record (a bounded cache) and
// the transaction updates it only if it still names that location (a conditional Update, which also
// takes a GC mark away), so a stale cache can never produce a wrong link. See docs/dynamodb.md ("Recording a blob").
import type { BlobRecord } from '../../core/ports.ts';
import { backoff, MetadataContentionError, type DynamoOps, type TransactItem } from './dynamo-ops.ts';
import type { KnownRepos } from './dynamo-manifests.ts';
import { globalBlobItem, repoEntryItem, toBlobFromWire } from './items.ts';
import { blobKey, uploadKey } from './keys.ts';
import { countedLinkItems, learnApplied, learnFromCancel, type CountCache } from './dynamo-quota.ts';

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
  /** What this process saw of links and the projects' counts (dynamo-quota.ts). */
  counts: CountCache;
  /**
   * Repositories this process is registering now (a transaction with their catalog entry on its way):
   * a concurrent recording into one of them waits for it instead of writing the entry too (it would
   * lose that race, and send its transaction again).
   */
  registering: Map<string, Promise<void>>;
  /** Whether the repository's catalog entry exists (1 GetItem unless this process knows it). */
  registered(repo: string): Promise<boolean>;
  now(): number;
}

/**
 * 1 TransactWriteItems (+ 1 GetItem of the catalog entry while this process has not seen the
 * repository). When another copy of the blob was recorded first and this process had not seen it:
 * one more TransactWriteItems, linking that copy.
 */
export async function recordAndLink(d: RecordDeps, repo: string, blob: BlobRecord, quota?: number): Promise<BlobRecord> {
  return (await recordWrites(d, repo, blob, undefined, (r) => d.registered(r), quota))!;
}

/**
 * Ends upload session `uploadId` and records and links `blob` in the same transaction: whoever ends
 * the session has recorded the upload, so no one ever sees a session ended and a blob not recorded.
 * undefined when the session was not there (ended already, by the transaction that recorded it, or
 * expired): then nothing was written. 1 TransactWriteItems; a repository this process has not seen
 * is registered in it (a conditional Put of its catalog entry, refused when it exists: then one
 * more), and a blob recorded first elsewhere that this process had not seen costs one more too.
 */
export function recordUploadAndLink(d: RecordDeps, repo: string, blob: BlobRecord, uploadId: string, quota?: number): Promise<BlobRecord | undefined> {
  return recordWrites(d, repo, blob, uploadId, async () => false, quota);
}

async function recordWrites(d: RecordDeps, repo: string, blob: BlobRecord, uploadId: string | undefined, registered: (repo: string) => Promise<boolean>, quota?: number): Promise<BlobRecord | undefined> {
  // Waits while another call of this process registers the repository; from the last look on, no
  // await until this call claims the registration itself.
  for (let p = d.registering.get(repo); p !== undefined && !d.repos.has(repo); p = d.registering.get(repo)) await p;
  if (d.repos.has(repo)) return transactRecord(d, repo, blob, uploadId, true, quota);
  let done = (): void => undefined;
  d.registering.set(repo, new Promise<void>((resolve) => (done = resolve)));
  try {
    return await transactRecord(d, repo, blob, uploadId, await registered(repo), quota);
  } finally {
    d.registering.delete(repo);
    done();
  }
}

async function transactRecord(d: RecordDeps, repo: string, blob: BlobRecord, uploadId: string | undefined, registeredAtStart: boolean, quota?: number): Promise<BlobRecord | undefined> {
  let registered = registeredAtStart;
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
    // The link, counted in its project's usage (within the quota): dynamo-quota.ts.
    const link = countedLinkItems(d.ops.table, repo, winner, now, d.counts.guess(repo, blob.digest), 1, quota);
    const items: TransactItem[] = [record, ...link.items];
    const repoAt = registered ? -1 : items.push({ Put: { TableName: d.ops.table, Item: repoEntryItem(repo, now), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: PK } }) - 1;
    // The session, live (an expired one counts as absent, as deleteUpload says).
    const sessionAt = uploadId === undefined ? -1 : items.push({
      Delete: { TableName: d.ops.table, Key: uploadKey(uploadId), ConditionExpression: 'attribute_exists(#pk) AND #exp > :now', ExpressionAttributeNames: { ...PK, '#exp': 'expires' }, ExpressionAttributeValues: { ':now': now } },
    }) - 1;
    const reasons = await d.ops.transactOrReasons(items);
    if (reasons === undefined) {
      learnApplied(d.counts, repo, blob.digest);
      d.cache.set(winner);
      d.repos.add(repo);
      return winner;
    }
    // A concurrent request registered the repository first.
    if (repoAt >= 0 && reasons[repoAt]?.Code === 'ConditionalCheckFailed') {
      registered = true;
      d.repos.add(repo);
    }
    // The session was ended already: by the transaction that recorded this upload (or it expired).
    if (sessionAt >= 0 && reasons[sessionAt]?.Code === 'ConditionalCheckFailed') return undefined;
    // A wrong guess about the link's count is corrected for the next attempt; over the quota throws.
    learnFromCancel(d.counts, repo, winner, link, reasons, quota);
    if (reasons[0]?.Code === 'ConditionalCheckFailed') {
      // Another copy won (or the cached one is gone): the record as it is came back with the failure.
      const current = reasons[0].Item === undefined ? undefined : toBlobFromWire(reasons[0].Item as Record<string, { S?: string; N?: string }>);
      if (current) d.cache.set(current);
      else d.cache.delete(blob.digest);
    }
    // Another transaction on the same items: back off before the next attempt.
    if (reasons.some((r) => r.Code === 'TransactionConflict')) await backoff(attempt + 1);
  }
  throw new MetadataContentionError('blob record');
}
