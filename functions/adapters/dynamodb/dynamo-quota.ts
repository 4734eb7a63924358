// Storage quotas on DynamoDB (docs/quotas.md): a project's usage is kept by the writes of its links.
// A link item written by this code carries `q` (it is counted). Its project's item `Q#<project>` /
// `B#<digest>` says how many of the project's repositories link the digest (`refs`) and the size
// counted; `Q#<project>` / `USAGE` sums them (`bytes`, `blobs`). The link write that makes a digest
// new to its project puts the project-blob item (if absent) and adds to the usage in the same
// transaction as the link, conditioned on the usage staying within the quota when there is one; a
// link of a digest the project counts already adds to `refs`. Which case applies is guessed from what
// this process saw (a batch read before the write, or earlier writes); every guess is a condition of
// the write, and a wrong one cancels it and tells the next attempt the truth (ALL_OLD).
import type { BlobRecord } from '../../core/ports.ts';
import { projectOf } from '../../core/auth/model.ts';
import { QuotaExceededError, type ProjectUsage } from '../../core/quota-ports.ts';
import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoOps, TransactItem } from './dynamo-ops.ts';
import { linkItem, type Item } from './items.ts';
import { QUOTA_PK_PREFIX, linkKey, projectBlobKey, usageKey, type Key } from './keys.ts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';

/** A link as the write finds it: none, counted (`q`), or written before counting (not counted). */
export type LinkState = 'absent' | 'counted' | 'uncounted';

export interface CountGuess {
  link: LinkState;
  /** Whether the project counts the digest already (its project-blob item exists). */
  inProject: boolean;
}

/** What this process last saw of links and project-blob items (bounded; every use is checked by a condition). */
export class CountCache {
  readonly #links = new Map<string, LinkState>();
  readonly #projects = new Map<string, boolean>();
  guess(repo: string, digest: string): CountGuess {
    return { link: this.#links.get(`${repo}\n${digest}`) ?? 'absent', inProject: this.#projects.get(`${projectOf(repo)}\n${digest}`) ?? false };
  }
  learn(repo: string, digest: string, seen: Partial<CountGuess>): void {
    if (this.#links.size >= 10_000) this.#links.clear();
    if (this.#projects.size >= 10_000) this.#projects.clear();
    if (seen.link !== undefined) this.#links.set(`${repo}\n${digest}`, seen.link);
    if (seen.inProject !== undefined) this.#projects.set(`${projectOf(repo)}\n${digest}`, seen.inProject);
  }
  /** From a batch read: the link item (or none) and the project-blob item (or none). */
  saw(repo: string, digest: string, link: Item | undefined, projectBlob: Item | undefined): void {
    this.learn(repo, digest, { link: linkState(link), inProject: projectBlob !== undefined });
  }
}

export const linkState = (item: Item | undefined): LinkState => (item === undefined ? 'absent' : item.q === undefined ? 'uncounted' : 'counted');
export const isQuotaItem = (item: Item): boolean => (item.pk as string).startsWith(QUOTA_PK_PREFIX);

const NAMES = { '#pk': 'pk', '#q': 'q' };
const LINK_CONDITION: Record<LinkState, string> = {
  absent: 'attribute_not_exists(#pk)',
  counted: 'attribute_exists(#q)',
  uncounted: 'attribute_exists(#pk) AND attribute_not_exists(#q)',
};

/** The items of a counted link write and where they are in the transaction (offset `base`). */
export interface CountedLink {
  items: TransactItem[];
  linkAt: number;
  projectAt: number;
  usageAt: number;
}

/**
 * The link of `blob` in `repo` (time `now`, counted), conditioned on `guess`; when the guess says
 * the link is new to the repository, the project-blob item and (a digest new to the project) the
 * usage, within `quota` when given.
 */
export function countedLinkItems(table: string, repo: string, blob: BlobRecord, now: number, guess: CountGuess, base: number, quota?: number): CountedLink {
  const project = projectOf(repo);
  const items: TransactItem[] = [{
    Put: {
      TableName: table, Item: { ...linkItem(repo, blob), lt: now, q: 1 }, ConditionExpression: LINK_CONDITION[guess.link],
      ExpressionAttributeNames: guess.link === 'counted' ? { '#q': 'q' } : guess.link === 'absent' ? { '#pk': 'pk' } : NAMES, ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  }];
  if (guess.link === 'counted') return { items, linkAt: base, projectAt: -1, usageAt: -1 };
  if (guess.inProject) {
    items.push({
      Update: {
        TableName: table, Key: projectBlobKey(project, blob.digest), UpdateExpression: 'ADD #r :one', ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk', '#r': 'refs' }, ExpressionAttributeValues: { ':one': 1 },
      },
    });
    return { items, linkAt: base, projectAt: base + 1, usageAt: -1 };
  }
  items.push(
    { Put: { TableName: table, Item: { ...projectBlobKey(project, blob.digest), size: blob.size, refs: 1 }, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } } },
    {
      Update: {
        TableName: table, Key: usageKey(project), UpdateExpression: 'ADD #b :size, #n :one',
        ExpressionAttributeNames: { '#b': 'bytes', '#n': 'blobs' }, ExpressionAttributeValues: { ':size': blob.size, ':one': 1, ...(quota === undefined ? {} : { ':max': quota - blob.size }) },
        // A blob larger than the whole quota fails whatever the usage (none yet included).
        ...(quota === undefined ? {} : { ConditionExpression: quota >= blob.size ? 'attribute_not_exists(#b) OR #b <= :max' : 'attribute_exists(#b) AND #b < :max', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }),
      },
    },
  );
  return { items, linkAt: base, projectAt: base + 1, usageAt: base + 2 };
}

const failed = (reasons: CancellationReason[], at: number): CancellationReason | undefined => (at >= 0 && reasons[at]?.Code === 'ConditionalCheckFailed' ? reasons[at] : undefined);
const wireItem = (r: CancellationReason): Item | undefined => (r.Item === undefined ? undefined : (unmarshall(r.Item) as Item));

/**
 * After a cancelled counted link write: what the failed conditions taught (into `cache`); throws
 * QuotaExceededError when the guesses held and the usage condition failed. True when a guess was wrong.
 */
export function learnFromCancel(cache: CountCache, repo: string, blob: BlobRecord, at: CountedLink, reasons: CancellationReason[], quota?: number): boolean {
  const link = failed(reasons, at.linkAt);
  const inProject = failed(reasons, at.projectAt);
  if (link) cache.learn(repo, blob.digest, { link: linkState(wireItem(link)) });
  if (inProject) cache.learn(repo, blob.digest, { inProject: !cache.guess(repo, blob.digest).inProject });
  if (link || inProject) return true;
  const usage = failed(reasons, at.usageAt);
  if (usage && quota !== undefined) throw new QuotaExceededError(projectOf(repo), Number(wireItem(usage)?.bytes ?? 0), quota, blob.size);
  return false;
}

/** After a counted link write applied: the link is counted, the project counts the digest. */
export function learnApplied(cache: CountCache, repo: string, digest: string): void {
  cache.learn(repo, digest, { link: 'counted', inProject: true });
}

/** A consistent GetItem (every role that reads the table may: BatchGetItem is not granted to all). */
async function getItem(ops: DynamoOps, key: Key): Promise<Item | undefined> {
  return (await ops.doc.send(new GetCommand({ TableName: ops.table, Key: key, ConsistentRead: true }))).Item;
}

/** The project's usage: one GetItem (with a digest, two in parallel). */
export async function readUsage(ops: DynamoOps, project: string, digest?: string): Promise<ProjectUsage> {
  const [usage, counted] = await Promise.all([getItem(ops, usageKey(project)), digest === undefined ? undefined : getItem(ops, projectBlobKey(project, digest))]);
  const out: ProjectUsage = { bytes: Number(usage?.bytes ?? 0), blobs: Number(usage?.blobs ?? 0) };
  if (digest !== undefined) out.counted = counted !== undefined;
  return out;
}

/**
 * Deletes the link of `digest` in `repo` and uncounts it, in one transaction, after reading the link
 * and its project-blob item (two GetItems in parallel); with `markedAt` only while the link carries that GC mark.
 * False when the link is absent (or its mark differs); a race with another write of the same items
 * reads again.
 */
export async function deleteCountedLink(ops: DynamoOps, repo: string, digest: string, markedAt?: number): Promise<boolean> {
  const project = projectOf(repo);
  return ops.retrying('link delete', async () => {
    const [link, counted] = await Promise.all([getItem(ops, linkKey(repo, digest)), getItem(ops, projectBlobKey(project, digest))]);
    if (link === undefined || (markedAt !== undefined && link.gcm !== markedAt)) return false;
    const state = linkState(link);
    const names: Record<string, string> = { '#pk': 'pk', '#q': 'q' };
    const values: Record<string, number> = {};
    let condition = `attribute_exists(#pk) AND ${state === 'counted' ? 'attribute_exists(#q)' : 'attribute_not_exists(#q)'}`;
    if (markedAt !== undefined) {
      condition += ' AND #m = :m';
      names['#m'] = 'gcm';
      values[':m'] = markedAt;
    }
    const del: TransactItem = { Delete: { TableName: ops.table, Key: linkKey(repo, digest), ConditionExpression: condition, ExpressionAttributeNames: names, ...(markedAt === undefined ? {} : { ExpressionAttributeValues: values }) } };
    const writes: TransactItem[] = [del];
    if (state === 'counted' && counted !== undefined) {
      const refs = Number(counted.refs);
      const seen = { ConditionExpression: '#r = :r', ExpressionAttributeNames: { '#r': 'refs' } };
      if (refs > 1) {
        writes.push({ Update: { TableName: ops.table, Key: projectBlobKey(project, digest), UpdateExpression: 'ADD #r :minus', ...seen, ExpressionAttributeValues: { ':r': refs, ':minus': -1 } } });
      } else {
        writes.push(
          { Delete: { TableName: ops.table, Key: projectBlobKey(project, digest), ...seen, ExpressionAttributeValues: { ':r': refs } } },
          { Update: { TableName: ops.table, Key: usageKey(project), UpdateExpression: 'ADD #b :size, #n :minus', ExpressionAttributeNames: { '#b': 'bytes', '#n': 'blobs' }, ExpressionAttributeValues: { ':size': -Number(counted.size), ':minus': -1 } } },
        );
      }
    }
    return (await ops.transact(writes)) ? true : undefined;
  });
}
