// Manifest writes: the manifest, its tags (with their reverse index), its referrer entry and the
// repository's catalog entry change together in one TransactWriteItems, conditioned on what a
// consistent batch read saw just before; a lost race re-reads and tries again.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../core/audit.ts';
import { TagImmutableError, type ManifestPutIntent, type ManifestRecord, type PutManifestOptions, type PutManifestResult, type TagState } from '../../core/ports.ts';
import { MetadataContentionError, RACE_ATTEMPTS, backoff, type DynamoOps, type TransactItem } from './dynamo-ops.ts';
import { fieldsInline, fieldsOf, inlineInManifest, manifestItem, referrerItem, repoEntryItem, tagItem, type Item } from './items.ts';
import {
  MANIFEST, REPOS_PK, TAG, manifestBodyKey, manifestFieldsKey, manifestKey, referrerKey, repoEntryKey, repoPk, reverseKey, reversePrefix, tagKey, type Key,
} from './keys.ts';
import type { ManifestBodyStore } from './manifest-body-store.ts';

/** The port allows at most 10 tags per manifest PUT: 1 + 3 x 10 + 2 transaction items (+ 2 of the audit entry), well under 100. */
export const MAX_TAGS_PER_PUT = 10;
/** Tags removed per transaction by deleteManifest: 2 items each (tag, reverse entry) + manifest + referrer <= 100. */
export const TAGS_PER_DELETE = 48;

/** Attributes putManifest reads of the manifest, its tags and the catalog entry. */
export const PUT_READ_FIELDS = ['pk', 'sk', 'digest', 'rev', 'created', 'gcm'];

/** What getReferences read ahead for a putManifest (the items of putReadKeys). */
export interface PreparedPut {
  repo: string;
  digest: string;
  tags: string[];
  items: Item[];
}

/** Writes a push's audit entry in the manifest's transaction (dynamo-audit.ts). */
export interface AuditItems {
  transactItems(entry: AuditEntry): TransactItem[];
  /** The transaction holding transactItems(entry) succeeded. */
  appended(entry: AuditEntry): void;
}

/** Repositories known (in this process) to have their catalog entry. Entries are never removed. */
export interface KnownRepos {
  has(repo: string): boolean;
  add(repo: string): void;
}

function usablePrepared(prepared: unknown, repo: string, digest: string, tags: string[]): Item[] | undefined {
  if (typeof prepared !== 'object' || prepared === null) return undefined;
  const p = prepared as PreparedPut;
  const same = p.repo === repo && p.digest === digest && p.tags.length === tags.length && tags.every((t) => p.tags.includes(t));
  return same ? p.items : undefined;
}

export class DynamoManifests {
  private readonly ops: DynamoOps;
  private readonly bodies: ManifestBodyStore | undefined;
  private readonly repos: KnownRepos;
  private readonly now: () => number;
  private readonly audit: AuditItems | undefined;

  constructor(ops: DynamoOps, bodies: ManifestBodyStore | undefined, repos: KnownRepos, now: () => number, audit?: AuditItems) {
    this.ops = ops;
    this.bodies = bodies;
    this.repos = repos;
    this.now = now;
    this.audit = audit;
  }

  private put(item: Item, condition?: string, names?: Record<string, string>, values?: Record<string, unknown>): TransactItem {
    return {
      Put: {
        TableName: this.ops.table, Item: item,
        ...(condition === undefined ? {} : { ConditionExpression: condition }),
        ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
        ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
      },
    };
  }

  private del(key: Key, digest?: string): TransactItem {
    return {
      Delete: {
        TableName: this.ops.table, Key: key,
        ...(digest === undefined ? {} : { ConditionExpression: '#digest = :d', ExpressionAttributeNames: { '#digest': 'digest' }, ExpressionAttributeValues: { ':d': digest } }),
      },
    };
  }

  /** Writes a large body (and references too many for the item) to S3, before any item names them. */
  private async placeBody(m: ManifestRecord, bodyKey: string, fieldsKey: string | undefined): Promise<void> {
    const bodies = this.bodies;
    if (bodies === undefined) throw new Error(`manifest ${m.digest} is too large for an item and no manifest body store is configured`);
    await Promise.all([
      bodies.put(bodyKey, m.body),
      fieldsKey === undefined ? undefined : bodies.put(fieldsKey, new TextEncoder().encode(JSON.stringify(fieldsOf(m)))),
    ]);
  }

  /** The keys putManifest reads: the manifest, its tags, the catalog entry unless known. */
  putReadKeys(repo: string, intent: ManifestPutIntent): Key[] {
    return [manifestKey(repo, intent.digest), ...[...new Set(intent.tags)].map((t) => tagKey(repo, t)), ...(this.repos.has(repo) ? [] : [repoEntryKey(repo)])];
  }

  /** Whether `item` (read with putReadKeys) belongs to the put rather than to the references. */
  static isPutItem(repo: string, intent: ManifestPutIntent, item: Item): boolean {
    const key = manifestKey(repo, intent.digest);
    return item.pk === REPOS_PK || (item.sk as string).startsWith(TAG) || (item.pk === key.pk && item.sk === key.sk);
  }

  /**
   * 1 BatchGetItem (manifest, tags, catalog entry unless known) + 1 TransactWriteItems (none when
   * nothing changes); with `prepared` (read by getReferences in its batch), the first attempt reads
   * nothing. A body too large for an item is written to S3 first (1 PutObject). The push's audit
   * entry (opts.audit) joins the transaction when there is one (not when nothing changes).
   */
  async putManifest(repo: string, m: ManifestRecord, tags: string[], prepared?: unknown, opts: PutManifestOptions = {}): Promise<PutManifestResult> {
    const unique = [...new Set(tags)];
    if (unique.length > MAX_TAGS_PER_PUT) throw new RangeError(`at most ${MAX_TAGS_PER_PUT} tags per manifest put`);
    const bodyKey = inlineInManifest(m) ? undefined : manifestBodyKey(repo, m.digest);
    const fieldsKey = fieldsInline(m) ? undefined : manifestFieldsKey(repo, m.digest);
    let bodyPlaced = bodyKey === undefined;
    const notExists = 'attribute_not_exists(#pk)';
    const pkName = { '#pk': 'pk' };

    let ahead = usablePrepared(prepared, repo, m.digest, unique);
    const entry = this.audit === undefined ? undefined : opts.audit;
    return this.ops.retrying('manifest put', async (): Promise<PutManifestResult | undefined> => {
      const repoKnown = this.repos.has(repo);
      // What getReferences read ahead serves the first attempt; a retry (lost race) reads again.
      const found = ahead ?? (await this.ops.batchGet(this.putReadKeys(repo, { digest: m.digest, tags: unique }), PUT_READ_FIELDS));
      ahead = undefined;
      let stored: Item | undefined;
      let repoExists = repoKnown;
      const tagDigest = new Map<string, string>();
      for (const item of found) {
        const sk = item.sk as string;
        if (item.pk === REPOS_PK) repoExists = true;
        else if (sk.startsWith(MANIFEST)) stored = item;
        else if (sk.startsWith(TAG)) tagDigest.set(sk.slice(TAG.length), item.digest as string);
      }
      if (repoExists) this.repos.add(repo);

      // Tags copy the manifest as stored (the first put's creation time stays).
      const record: ManifestRecord = stored === undefined ? m : { ...m, createdAt: stored.created as number };
      const writes: TransactItem[] = [];
      const checks: TransactItem[] = [];
      for (const tag of unique) {
        const old = tagDigest.get(tag);
        // The tag's write below is conditioned on `old`: a put that moved it meanwhile fails this
        // transaction, and the retry reads the tag again and refuses here.
        if (old !== undefined && old !== m.digest && opts.immutable?.has(tag)) throw new TagImmutableError(tag, old);
        if (old === m.digest) {
          // Already there: the transaction still requires it to be (a concurrent delete must not win silently).
          checks.push({ ConditionCheck: { TableName: this.ops.table, Key: tagKey(repo, tag), ConditionExpression: '#digest = :d', ExpressionAttributeNames: { '#digest': 'digest' }, ExpressionAttributeValues: { ':d': m.digest } } });
          continue;
        }
        // The tag time is the put's (m.createdAt), not the stored manifest's creation.
        writes.push(old === undefined
          ? this.put(tagItem(repo, tag, record, m.createdAt), notExists, pkName)
          : this.put(tagItem(repo, tag, record, m.createdAt), '#digest = :old', { '#digest': 'digest' }, { ':old': old }));
        if (old !== undefined) writes.push(this.del(reverseKey(repo, old, tag)));
        writes.push(this.put({ ...reverseKey(repo, m.digest, tag) }));
      }
      if (stored === undefined) {
        if (!bodyPlaced && bodyKey !== undefined) {
          await this.placeBody(m, bodyKey, fieldsKey);
          bodyPlaced = true;
        }
        writes.push(this.put(manifestItem(repo, m, bodyKey, fieldsKey), notExists, pkName));
        if (m.subject !== undefined) writes.push(this.put(referrerItem(repo, m.subject, m, fieldsKey)));
      } else if (writes.length > 0 || stored.gcm !== undefined) {
        // New tags on a stored manifest bump its revision, which a concurrent deleteManifest conditions
        // on. The increment is atomic and conditioned only on the manifest still being there: puts
        // adding different tags to one manifest at once (a client tagging in parallel) need not
        // re-read each other's revision, which made 8 parallel taggers exhaust their retries.
        writes.push({
          Update: {
            TableName: this.ops.table, Key: manifestKey(repo, m.digest),
            // A manifest pushed again is needed again: its GC mark goes (a GC run's delete then fails).
            UpdateExpression: 'SET #rev = #rev + :one REMOVE #gcm', ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#rev': 'rev', '#pk': 'pk', '#gcm': 'gcm' }, ExpressionAttributeValues: { ':one': 1 },
          },
        });
      }
      if (!repoExists) writes.push(this.put(repoEntryItem(repo, this.now()), notExists, pkName));
      if (writes.length === 0) return { audited: false };
      if (!(await this.ops.transact([...writes, ...checks, ...(entry ? this.audit!.transactItems(entry) : [])]))) return undefined;
      this.repos.add(repo);
      if (entry) this.audit!.appended(entry);
      return { audited: entry !== undefined };
    });
  }

  /**
   * 1 GetItem, then 1 Query, then 1 TransactWriteItems while at most 48 tags point at the
   * digest; each further 48 tags cost one more Query and TransactWriteItems. The S3 copy of a large
   * body is left to garbage collection (a concurrent re-push may already be using the same key).
   */
  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const prefix = reversePrefix(digest);
    for (let failures = 0; ;) {
      // The revision first, then the reverse index: a put that adds a tag after the revision was read
      // bumps it, so the final delete fails and re-reads. (Read in parallel, the query could miss a
      // tag whose put the revision read already reflects.)
      const head = await this.ops.doc.send(new GetCommand({
        TableName: this.ops.table, Key: manifestKey(repo, digest), ConsistentRead: true,
        ProjectionExpression: '#rev, #subj', ExpressionAttributeNames: { '#rev': 'rev', '#subj': 'subj' },
      }));
      if (head.Item === undefined) return false;
      const reverse = await this.ops.queryPage(repoPk(repo), prefix, TAGS_PER_DELETE, undefined, []);
      const items = reverse.items.flatMap((item) => {
        const tag = (item.sk as string).slice(prefix.length);
        return [this.del(tagKey(repo, tag), digest), this.del(reverseKey(repo, digest, tag))];
      });
      if (!reverse.more) {
        items.push({
          Delete: {
            TableName: this.ops.table, Key: manifestKey(repo, digest), ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': head.Item.rev as number },
          },
        });
        const subject = head.Item.subj as string | undefined;
        if (subject !== undefined) items.push(this.del(referrerKey(repo, subject, digest)));
      }
      if (await this.ops.transact(items)) {
        if (!reverse.more) return true;
        failures = 0;
        continue;
      }
      if (++failures >= RACE_ATTEMPTS) throw new MetadataContentionError('manifest delete');
      await backoff(failures);
    }
  }

  /**
   * 1 GetItem + 1 TransactWriteItems (tag and its reverse entry). With `expect` (a retention rule's
   * delete): no read, one transaction conditioned on the tag being exactly as seen (digest, tag time,
   * last pull; an item without `tt` on its `created`); false when it changed or is gone.
   */
  async deleteTag(repo: string, tag: string, expect?: TagState): Promise<boolean> {
    if (expect !== undefined) {
      const names: Record<string, string> = { '#digest': 'digest', '#tt': 'tt', '#c': 'created', '#pa': 'pa' };
      const values: Record<string, unknown> = { ':d': expect.digest, ':tt': expect.taggedAt };
      if (expect.pulledAt !== undefined) values[':pa'] = expect.pulledAt;
      const condition = `#digest = :d AND (#tt = :tt OR (attribute_not_exists(#tt) AND #c = :tt)) AND ${expect.pulledAt === undefined ? 'attribute_not_exists(#pa)' : '#pa = :pa'}`;
      return this.ops.transact([
        { Delete: { TableName: this.ops.table, Key: tagKey(repo, tag), ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values } },
        this.del(reverseKey(repo, expect.digest, tag)),
      ]);
    }
    return this.ops.retrying('tag delete', async () => {
      const { Item: item } = await this.ops.doc.send(new GetCommand({
        TableName: this.ops.table, Key: tagKey(repo, tag), ConsistentRead: true,
        ProjectionExpression: '#digest', ExpressionAttributeNames: { '#digest': 'digest' },
      }));
      if (item === undefined) return false;
      const digest = item.digest as string;
      return (await this.ops.transact([this.del(tagKey(repo, tag), digest), this.del(reverseKey(repo, digest, tag))])) ? true : undefined;
    });
  }
}
