// MetadataStore on one DynamoDB table (layout in keys.ts, item shapes in items.ts, design and round
// trips in docs/dynamodb.md). Manifest writes live in dynamo-manifests.ts, upload sessions in
// dynamo-uploads.ts; this file holds blobs, reads and listings.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { startOfDay } from '../../core/pulls.ts';
import { projectOf } from '../../core/auth/model.ts';
import { DynamoGc } from './dynamo-gc.ts';
import { getItemClientOf, type GetItemClient } from './get-item-client.ts';
import type {
  BlobRecord, Descriptor, GcTarget, ManifestHead, ManifestPutIntent, ManifestRecord, MetadataStore, Page, PutManifestOptions, PutManifestResult, References, TagState, TagUse, UploadLease, UploadSession
} from '../../core/ports.ts';
import type { GcBlob, GcMetadataStore, GcRepository } from '../../core/gc-ports.ts';
import { DynamoManifests, PUT_READ_FIELDS, type AuditItems, type KnownRepos, type PreparedPut } from './dynamo-manifests.ts';
import { DynamoOps } from './dynamo-ops.ts';
import { DynamoUploads } from './dynamo-uploads.ts';
import { BlobCache, recordAndLink, recordUploadAndLink, type RecordDeps } from './dynamo-blob-record.ts';
import { CountCache, countedLinkItems, deleteCountedLink, isQuotaItem, learnApplied, learnFromCancel, readUsage } from './dynamo-quota.ts';
import type { ProjectUsage, RepositorySize } from '../../core/quota-ports.ts';
import { globalBlobItem, repoEntryItem, toBlob, toDescriptor, toHead, toManifest, type Item, type ManifestFields } from './items.ts';
import {
  LINK, MANIFEST, REPOS_PK, TAG, blobKey, linkKey, manifestKey, projectBlobKey, referrerPrefix, repoEntryKey, repoPk, tagKey, type Key,
} from './keys.ts';
import type { ManifestBodyStore } from './manifest-body-store.ts';

export interface DynamoMetadataOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Where manifest bodies too large for an item go (S3). Without it such manifests are refused. */
  bodies?: ManifestBodyStore;
  /** Clock for session expiry (epoch ms); Date.now by default. */
  now?: () => number;
  /** The audit log (dynamo-audit.ts): a push's entry is written in the manifest's transaction. Without it the caller writes it. */
  audit?: AuditItems;
}

/** A manifest's head; on a tag item also its last recorded pull (`pa`, absent on manifest items). */
const HEAD_FIELDS = { ProjectionExpression: '#digest, #mt, #size, #pa', ExpressionAttributeNames: { '#digest': 'digest', '#mt': 'mt', '#size': 'size', '#pa': 'pa' } };

/** A bounded set of repository names this process has seen registered (they are never removed). */
class RepoCache implements KnownRepos {
  private readonly names = new Set<string>();
  has(repo: string): boolean {
    return this.names.has(repo);
  }
  add(repo: string): void {
    if (this.names.size >= 10_000) this.names.clear();
    this.names.add(repo);
  }
}

export class DynamoMetadataStore implements MetadataStore, GcMetadataStore {
  private readonly ops: DynamoOps;
  private readonly reads: GetItemClient;
  private readonly bodies: ManifestBodyStore | undefined;
  private readonly repos = new RepoCache();
  private readonly blobs = new BlobCache();
  private readonly counts = new CountCache();
  private readonly uploads: DynamoUploads;
  private readonly manifests: DynamoManifests;
  private readonly gc: DynamoGc;
  private readonly now: () => number;
  private readonly recordDeps: RecordDeps;

  constructor(options: DynamoMetadataOptions) {
    const doc = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.reads = getItemClientOf(options.client);
    this.ops = new DynamoOps(doc, options.tableName);
    this.bodies = options.bodies;
    this.now = options.now ?? Date.now;
    this.uploads = new DynamoUploads(this.ops, this.now);
    this.manifests = new DynamoManifests(this.ops, this.bodies, this.repos, this.now, options.audit);
    this.gc = new DynamoGc(this.ops, this.bodies);
    this.recordDeps = {
      ops: this.ops, repos: this.repos, cache: this.blobs, counts: this.counts, registering: new Map(), now: this.now,
      registered: async (r) => (await this.get(repoEntryKey(r))) !== undefined,
    };
  }

  /**
   * One strongly consistent GetItem. Every manifest GET and blob HEAD is one of these, so it goes
   * the lean way (get-item-client.ts): the SDK's command stack cost ~570 us of CPU per read, the
   * DocumentClient's marshalling 150-250 us more (bench/handler-cpu.ts).
   */
  private async get(key: Key, extra: Partial<typeof HEAD_FIELDS> = {}): Promise<Item | undefined> {
    const out = await this.reads.getItem({ TableName: this.ops.table, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true, ...extra });
    return out.Item && (unmarshall(out.Item) as Item);
  }

  // Upload sessions.

  createUpload(session: UploadSession): Promise<void> {
    return this.uploads.createUpload(session);
  }
  getUpload(id: string): Promise<UploadSession | undefined> {
    return this.uploads.getUpload(id);
  }
  leaseUpload(id: string, expectedOffset: number, lease: UploadLease, now: number): Promise<boolean> {
    return this.uploads.leaseUpload(id, expectedOffset, lease, now);
  }
  takeUpload(id: string, lease: UploadLease, now: number): Promise<UploadSession | { busyAt: number } | undefined> {
    return this.uploads.takeUpload(id, lease, now);
  }
  updateUpload(id: string, holder: string, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean> {
    return this.uploads.updateUpload(id, holder, next);
  }
  releaseUpload(id: string, holder: string): Promise<void> {
    return this.uploads.releaseUpload(id, holder);
  }
  deleteUpload(id: string): Promise<boolean> {
    return this.uploads.deleteUpload(id);
  }
  claimUpload(id: string, now: number): Promise<UploadSession | { busyAt: number } | undefined> {
    return this.uploads.claimUpload(id, now);
  }

  // Blobs.

  /**
   * 1 UpdateItem: the first writer's size, location and creation time stay (if_not_exists) and come
   * back; every write records when the blob was last recorded (`tch`) and removes a GC mark (it is
   * needed again), so a GC run's conditional delete of it fails.
   */
  async putBlob(blob: BlobRecord): Promise<BlobRecord> {
    const item = globalBlobItem(blob);
    const out = await this.ops.doc.send(new UpdateCommand({
      TableName: this.ops.table, Key: blobKey(blob.digest),
      UpdateExpression: 'SET #d = if_not_exists(#d, :d), #s = if_not_exists(#s, :s), #l = if_not_exists(#l, :l), #c = if_not_exists(#c, :c), #t = :t REMOVE #m',
      ExpressionAttributeNames: { '#d': 'digest', '#s': 'size', '#l': 'loc', '#c': 'created', '#t': 'tch', '#m': 'gcm' },
      ExpressionAttributeValues: { ':d': item.digest, ':s': item.size, ':l': item.loc, ':c': item.created, ':t': this.now() },
      ReturnValues: 'ALL_NEW',
    }));
    return out.Attributes === undefined ? blob : toBlob(out.Attributes);
  }

  /** 1 GetItem. */
  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const item = await this.get(blobKey(digest));
    const blob = item && toBlob(item);
    if (blob) this.blobs.set(blob);
    return blob;
  }

  /** See dynamo-blob-record.ts: 1 TransactWriteItems (+ 1 GetItem while the repository is unknown here). */
  recordBlob(repo: string, blob: BlobRecord, quota?: number): Promise<BlobRecord> {
    return recordAndLink(this.recordDeps, repo, blob, quota);
  }

  /** See dynamo-blob-record.ts: 1 TransactWriteItems ending the session, recording and linking. */
  recordUpload(repo: string, blob: BlobRecord, uploadId: string, quota?: number): Promise<BlobRecord | undefined> {
    return recordUploadAndLink(this.recordDeps, repo, blob, uploadId, quota);
  }

  /**
   * 1 BatchGetItem: the links of `digests` in `repo`, their blob records, whether the project counts
   * them (dynamo-quota.ts) and the repository's catalog entry (unless known), kept for the
   * recordUpload calls that follow. Returns the links there (a link a GC run has condemned is left
   * to the recording, which writes it again unmarked).
   */
  async prepareUploads(repo: string, digests: string[]): Promise<Map<string, BlobRecord>> {
    const project = projectOf(repo);
    const keys = digests.flatMap((d) => [linkKey(repo, d), blobKey(d), projectBlobKey(project, d)]);
    const items = await this.ops.batchGet(this.repos.has(repo) ? keys : [...keys, repoEntryKey(repo)]);
    const links = new Map<string, BlobRecord>();
    const found = new Map(items.filter((i) => i.pk !== REPOS_PK).map((i) => [`${i.pk}\n${i.sk}`, i]));
    for (const d of digests) this.counts.saw(repo, d, found.get(`${linkKey(repo, d).pk}\n${LINK}${d}`), found.get(`${projectBlobKey(project, d).pk}\n${LINK}${d}`));
    for (const item of items) {
      if (item.pk === REPOS_PK) this.repos.add(repo);
      else if (isQuotaItem(item)) continue;
      else if (item.pk === blobKey(item.digest as string).pk) this.blobs.set(toBlob(item));
      else if (item.gcm === undefined) links.set(item.digest as string, toBlob(item));
    }
    return links;
  }

  /**
   * 1 TransactWriteItems: the link (conditioned on what this process saw of it, dynamo-quota.ts),
   * its project's count when it is new to the repository (within `quota`) and, for a repository
   * this process has not seen registered (1 GetItem of the catalog entry first), the conditional
   * catalog entry. A wrong guess costs one more.
   */
  async linkBlob(repo: string, blob: BlobRecord, quota?: number): Promise<void> {
    await this.ops.retrying('blob link', async () => {
      const registered = this.repos.has(repo) || (await this.get(repoEntryKey(repo))) !== undefined;
      if (registered) this.repos.add(repo);
      const link = countedLinkItems(this.ops.table, repo, blob, this.now(), this.counts.guess(repo, blob.digest), 0, quota);
      const items = registered ? link.items : [...link.items, { Put: { TableName: this.ops.table, Item: repoEntryItem(repo, this.now()), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } } }];
      const reasons = await this.ops.transactOrReasons(items);
      if (reasons === undefined) {
        learnApplied(this.counts, repo, blob.digest);
        this.repos.add(repo);
        return true;
      }
      learnFromCancel(this.counts, repo, blob, link, reasons, quota);
      return undefined;
    });
  }

  /** 1 GetItem: the link carries size and location. */
  async getLinkedBlob(repo: string, digest: string): Promise<BlobRecord | undefined> {
    const item = await this.get(linkKey(repo, digest));
    return item && toBlob(item);
  }

  /** 2 GetItems (in parallel) and 1 TransactWriteItems: the link goes and its project's count with it (dynamo-quota.ts). */
  unlinkBlob(repo: string, digest: string): Promise<boolean> {
    return deleteCountedLink(this.ops, repo, digest);
  }

  /** 1 GetItem (with a digest: 2, in parallel). */
  projectUsage(project: string, digest?: string): Promise<ProjectUsage> {
    return readUsage(this.ops, project, digest);
  }

  /**
   * 1 Query of the repository's link items (`B#<digest>`, the size alone projected), and one more
   * per 1 MB page DynamoDB cuts it into (a few thousand links each), until `maxLinks` links are read.
   */
  async repositorySize(repo: string, maxLinks: number): Promise<RepositorySize> {
    const page = await this.ops.queryPage(repoPk(repo), LINK, maxLinks, undefined, ['size']);
    const bytes = page.items.reduce((sum, item) => sum + Number(item.size ?? 0), 0);
    return { bytes, blobs: page.items.length, complete: !page.more };
  }

  // Manifests and tags.

  private s3(item: Item): ManifestBodyStore {
    if (this.bodies === undefined) throw new Error(`manifest ${String(item.digest)} is stored in S3 and no manifest body store is configured`);
    return this.bodies;
  }

  private async fields(item: Item, key: string): Promise<ManifestFields> {
    return JSON.parse(new TextDecoder().decode(await this.s3(item).get(key))) as ManifestFields;
  }

  /** 1 GetItem (+ 1 GetObject when the body lives in S3, + 1 in parallel for references that did not fit). */
  async getManifest(repo: string, digest: string): Promise<ManifestRecord | undefined> {
    const item = await this.get(manifestKey(repo, digest));
    if (item === undefined) return undefined;
    const [body, fields] = await Promise.all([
      item.body !== undefined ? (item.body as Uint8Array) : this.s3(item).get(item.bodyKey as string),
      item.fieldsKey === undefined ? undefined : this.fields(item, item.fieldsKey as string),
    ]);
    return toManifest(item, body, fields);
  }

  /** 1 GetItem when the body fits the tag item (<= 100 KiB); else + getManifest. */
  async getTaggedManifest(repo: string, tag: string): Promise<(ManifestRecord & TagUse) | undefined> {
    const item = await this.get(tagKey(repo, tag));
    if (item === undefined) return undefined;
    const m: (ManifestRecord & TagUse) | undefined = item.body !== undefined ? toManifest(item, item.body as Uint8Array) : await this.getManifest(repo, item.digest as string);
    if (m && item.pa !== undefined) m.pulledAt = item.pa as number;
    return m;
  }

  /**
   * 1 conditional UpdateItem, made by at most one pull per tag per day (the handler skips it when the
   * tag read already shows today). It costs write units for the whole tag item (a small manifest's
   * copy lives in it: 1 unit per KB, usually 1-4), also when the condition fails.
   */
  async recordPull(repo: string, tag: string, digest: string, at: number): Promise<boolean> {
    try {
      await this.ops.doc.send(new UpdateCommand({
        TableName: this.ops.table, Key: tagKey(repo, tag), UpdateExpression: 'SET #pa = :at',
        ConditionExpression: '#digest = :d AND (attribute_not_exists(#pa) OR #pa < :day)',
        ExpressionAttributeNames: { '#pa': 'pa', '#digest': 'digest' }, ExpressionAttributeValues: { ':at': at, ':d': digest, ':day': startOfDay(at) },
      }));
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  /** 1 GetItem (projected); never reads S3. */
  async headManifest(repo: string, ref: { tag: string } | { digest: string }): Promise<(ManifestHead & TagUse) | undefined> {
    const key = 'tag' in ref ? tagKey(repo, ref.tag) : manifestKey(repo, ref.digest);
    const item = await this.get(key, HEAD_FIELDS);
    if (item === undefined) return undefined;
    const head: ManifestHead & TagUse = toHead(item);
    if (item.pa !== undefined) head.pulledAt = item.pa as number;
    return head;
  }

  /**
   * 1 BatchGetItem per 100 keys (2 keys per digest), sent in parallel; unprocessed keys retried.
   * With `intent`, the same batch reads what putManifest needs (manifest, tags, catalog entry).
   */
  async getReferences(repo: string, digests: string[], intent?: ManifestPutIntent): Promise<References> {
    const unique = [...new Set(digests)];
    const keys = unique.flatMap((d) => [linkKey(repo, d), manifestKey(repo, d)]);
    const putKeys = intent === undefined ? [] : this.manifests.putReadKeys(repo, intent);
    const fields = ['sk', 'digest', 'size', 'loc', 'created', 'mt', 'gcm'];
    const items = await this.ops.batchGet([...keys, ...putKeys], intent === undefined ? fields : [...new Set([...fields, ...PUT_READ_FIELDS])]);
    const refs: References = { blobs: new Map(), manifests: new Map() };
    const putItems: Item[] = [];
    if (intent !== undefined) refs.prepared = { repo, digest: intent.digest, tags: [...new Set(intent.tags)], items: putItems } satisfies PreparedPut;
    for (const item of items) {
      if (intent !== undefined && DynamoManifests.isPutItem(repo, intent, item)) {
        putItems.push(item);
        continue;
      }
      const sk = item.sk as string;
      if (item.gcm !== undefined) (refs.marked ??= new Set()).add(item.digest as string);
      if (sk.startsWith(LINK)) refs.blobs.set(item.digest as string, toBlob(item));
      else if (sk.startsWith(MANIFEST)) refs.manifests.set(item.digest as string, toHead(item));
    }
    return refs;
  }

  putManifest(repo: string, manifest: ManifestRecord, tags: string[], prepared?: unknown, opts?: PutManifestOptions): Promise<PutManifestResult> {
    return this.manifests.putManifest(repo, manifest, tags, prepared, opts);
  }
  deleteManifest(repo: string, digest: string): Promise<boolean> {
    return this.manifests.deleteManifest(repo, digest);
  }
  deleteTag(repo: string, tag: string, expect?: TagState): Promise<boolean> {
    return this.manifests.deleteTag(repo, tag, expect);
  }

  /** 1 Query (more only when DynamoDB's 1 MB page cuts it short). */
  async listTags(repo: string, limit: number, last?: string): Promise<Page<string>> {
    const page = await this.ops.queryPage(repoPk(repo), TAG, limit, last, []);
    return { items: page.items.map((item) => (item.sk as string).slice(TAG.length)), more: page.more };
  }

  /** 1 Query (+ 1 GetObject per referrer whose annotations exceed 300 KB). */
  async listReferrers(repo: string, subject: string, limit: number, last?: string): Promise<Page<Descriptor>> {
    const page = await this.ops.queryPage(repoPk(repo), referrerPrefix(subject), limit, last, ['digest', 'mt', 'size', 'at', 'ann', 'annKey']);
    // Annotations too large for the referrer item (rare) are read from S3, in parallel.
    const items = await Promise.all(page.items.map(async (item) =>
      toDescriptor(item, item.annKey === undefined ? undefined : await this.fields(item, item.annKey as string))));
    return { items, more: page.more };
  }

  // Garbage collection (dynamo-gc.ts).

  gcUnmark(target: GcTarget): Promise<boolean> {
    return this.gc.gcUnmark(target);
  }
  gcRepository(repo: string): Promise<GcRepository> {
    return this.gc.gcRepository(repo);
  }
  gcBlobs(limit: number, cursor?: string): Promise<{ items: GcBlob[]; cursor?: string }> {
    return this.gc.gcBlobs(limit, cursor);
  }
  gcMark(target: GcTarget, at: number, notAfter: number): Promise<boolean> {
    return this.gc.gcMark(target, at, notAfter);
  }
  gcDelete(target: GcTarget, markedAt: number): Promise<boolean> {
    return this.gc.gcDelete(target, markedAt);
  }

  // Repositories.

  /** 1 GetItem (none when this process has seen the repository registered). */
  async repositoryExists(repo: string): Promise<boolean> {
    if (this.repos.has(repo)) return true;
    const found = (await this.get(repoEntryKey(repo))) !== undefined;
    if (found) this.repos.add(repo);
    return found;
  }

  /** 1 Query on the catalog partition. */
  async listRepositories(limit: number, last?: string): Promise<Page<string>> {
    const page = await this.ops.queryPage(REPOS_PK, '', limit, last, []);
    return { items: page.items.map((item) => item.sk as string), more: page.more };
  }
}
