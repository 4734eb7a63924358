// Concurrent manifest puts, re-tags, manifest deletes and tag deletes against DynamoDB Local, then a
// check of the raw table (a test-only Scan): every tag points at a stored manifest, the reverse tag
// index matches the tags exactly, referrer entries exist exactly for stored manifests with a subject.
import { describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import type { ManifestRecord } from '../../../functions/core/ports.ts';
import { manifest } from '../../contract/fixtures.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

const local = useDynamoLocal();

async function scan(tableName: string) {
  const doc = DynamoDBDocumentClient.from(local.get().client());
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

describe('DynamoDB store under concurrent manifest and tag changes', () => {
  it('keeps tags, reverse index, manifests and referrer entries consistent', async () => {
    const tableName = await local.get().createTable();
    // Several "processes", each with its own client and caches.
    const stores = Array.from({ length: 4 }, () => new DynamoMetadataStore({ client: local.get().client(), tableName }));
    const subject = manifest();
    await stores[0]!.putManifest('r', subject, ['base']);
    const pool: ManifestRecord[] = Array.from({ length: 4 }, (_, i) => manifest(i % 2 === 0 ? { subject: subject.digest } : {}));
    const tags = ['a', 'b', 'c', 'd', 'e', 'f'];
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const worker = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const store = stores[w % stores.length]!;
        const roll = Math.random();
        if (roll < 0.55) await store.putManifest('r', pick(pool), tags.filter(() => Math.random() < 0.3));
        else if (roll < 0.8) await store.deleteManifest('r', pick(pool).digest);
        else await store.deleteTag('r', pick(tags));
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));

    const items = await scan(tableName);
    const of = (prefix: string) => items.filter((it) => it.pk === 'R#r' && (it.sk as string).startsWith(prefix));
    const manifests = new Set(of('M#').map((it) => it.digest as string));
    const tagMap = new Map(of('T#').map((it) => [(it.sk as string).slice(2), it.digest as string]));
    const reverse = of('D#').map((it) => (it.sk as string).slice(2));
    for (const [tag, digest] of tagMap) expect(manifests.has(digest), `tag ${tag} -> missing manifest`).toBe(true);
    expect(reverse.sort()).toEqual([...tagMap].map(([tag, digest]) => `${digest}#${tag}`).sort());
    const referrers = of('F#').map((it) => it.digest as string).sort();
    expect(referrers).toEqual(pool.filter((m) => m.subject !== undefined && manifests.has(m.digest)).map((m) => m.digest).sort());
    // And the store agrees with its own listing.
    expect((await stores[1]!.listTags('r', 100)).items).toEqual([...tagMap.keys()].sort());
  }, 120_000);

  it('8 writers adding different tags to one stored manifest at once all succeed, and each bumps the revision once', async () => {
    const tableName = await local.get().createTable();
    const clients = Array.from({ length: 8 }, () => local.get().client());
    const counts = clients.map((client) => countCalls(client));
    const stores = clients.map((client) => new DynamoMetadataStore({ client, tableName }));
    const m = manifest();
    await stores[0]!.putManifest('p', m, ['first']);
    const revBefore = (await scan(tableName)).find((it) => it.pk === 'R#p' && (it.sk as string).startsWith('M#'))?.rev as number;
    const tags = Array.from({ length: 160 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const queue = [...tags];
    for (const c of counts) c.reset();
    await Promise.all(stores.map(async (store) => {
      for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) await store.putManifest('p', m, [tag]);
    }));
    expect((await stores[0]!.listTags('p', 1000)).items).toEqual(['first', ...tags].sort());
    const items = await scan(tableName);
    // Every tag and its reverse entry; one revision bump per tag added to the stored manifest.
    expect(items.filter((it) => it.pk === 'R#p' && (it.sk as string).startsWith('D#')).length).toBe(tags.length + 1);
    const rev = (all: Record<string, unknown>[]) => all.find((it) => it.pk === 'R#p' && (it.sk as string).startsWith('M#'))?.rev as number;
    expect(rev(items) - revBefore).toBe(tags.length);
    // Writers do not lose to each other's revision bumps: about one transaction per tag (conditioning
    // on the revision read before made most of the 8 lose every round, ~4 transactions per tag).
    const transactions = counts.reduce((n, c) => n + (c.calls.TransactWriteItems ?? 0), 0);
    expect(transactions).toBeLessThan(tags.length * 1.5);
  }, 120_000);
});
