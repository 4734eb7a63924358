// The AuditLog contract against DynamoDB Local (a fresh table per test), and what only the table
// shows: every entry's TTL, its keys (a project's partition, never a scan to read it), pull counts.
import { expect, it } from 'vitest';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../../functions/adapters/dynamodb/dynamo-audit.ts';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { AuditRecorder, DEFAULT_AUDIT_RETENTION_DAYS } from '../../../functions/core/audit.ts';
import { TagImmutableError } from '../../../functions/core/ports.ts';
import { manifest } from '../../contract/fixtures.ts';
import { auditLogContract } from '../../contract/audit-log.contract.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

const local = useDynamoLocal();

auditLogContract('DynamoDB Local', async () => {
  const table = await local.get().createTable();
  const client = local.get().client();
  return { log: new DynamoAuditLog(DynamoDBDocumentClient.from(client), table), close: async () => client.destroy() };
});

it('an entry is an item of its project partition with a TTL of the retention; pulls are counted per repository, one write per window', async () => {
  const table = await local.get().createTable();
  const client = local.get().client();
  const doc = DynamoDBDocumentClient.from(client);
  try {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const lines: Record<string, unknown>[] = [];
    const audit = new AuditRecorder({ store: new DynamoAuditLog(doc, table), log: (_l, msg, f) => lines.push({ msg, ...f }), now: () => now, pullFlushMs: 60_000 });
    await audit.record({ action: 'push', actor: 'alice', address: '192.0.2.1', repository: 'team/app', target: 'v1' });
    const items = (await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'AUDIT#P#team' } }))).Items ?? [];
    expect(items).toHaveLength(1);
    expect(items[0]!.ttl).toBe(Math.ceil(now / 1000) + DEFAULT_AUDIT_RETENTION_DAYS * 86_400);
    expect(String(items[0]!.sk)).toMatch(/^2026-12-01T10:00:00\.000Z#/);
    // 5 pulls of one repository and 2 of another in a window: 7 log lines, no write yet.
    for (let i = 0; i < 5; i++) await audit.pulled('team/app', 'v1', 'alice', '192.0.2.1');
    for (let i = 0; i < 2; i++) await audit.pulled('team/lib', 'sha256:ab', 'anonymous', '192.0.2.2');
    expect(lines.filter((l) => l.msg === 'pull')).toHaveLength(7);
    expect(await audit.store.list({ project: 'team', limit: 10 })).toHaveLength(1);
    now += 60_000;
    await audit.pulled('team/app', 'v2', 'alice', '192.0.2.1');
    const counts = (await audit.store.list({ project: 'team', limit: 10 })).filter((e) => e.action === 'pull.count');
    expect(Object.fromEntries(counts.map((e) => [e.repository, e.detail?.count]))).toEqual({ 'team/app': 6, 'team/lib': 2 });
  } finally {
    client.destroy();
  }
});

it('a push\'s entry is an item of the manifest put\'s transaction: it lands with the push or not at all, and a put that writes nothing leaves it to the recorder', async () => {
  const table = await local.get().createTable();
  const client = local.get().client();
  const calls = countCalls(client);
  const doc = DynamoDBDocumentClient.from(client);
  try {
    const log = new DynamoAuditLog(doc, table);
    const store = new DynamoMetadataStore({ client, tableName: table, audit: log });
    const audit = new AuditRecorder({ store: log, log: () => undefined });
    const push = (target: string) => audit.prepare({ action: 'push', actor: 'alice', address: '192.0.2.1', repository: 'team/app', target });
    const m1 = manifest();
    const first = push('v1');
    calls.reset();
    expect(await store.putManifest('team/app', m1, ['v1'], undefined, { audit: first })).toEqual({ audited: true });
    // One transaction (the project's listing among its items, the first time), no UpdateItem of its own.
    expect(calls.snapshot()).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    expect((await log.list({ project: 'team', limit: 10 })).map((e) => e.id)).toEqual([first.id]);
    expect(await log.projects()).toEqual(['team']);

    // Refused (v1 is immutable and would move): neither the manifest nor the entry is written.
    const refused = push('v1');
    await expect(store.putManifest('team/app', manifest(), ['v1'], undefined, { audit: refused, immutable: new Set(['v1']) })).rejects.toBeInstanceOf(TagImmutableError);
    expect((await log.list({ project: 'team', limit: 10 })).map((e) => e.id)).toEqual([first.id]);

    // The same manifest and tag again: nothing to write, so no transaction; the caller writes the entry.
    calls.reset();
    expect(await store.putManifest('team/app', m1, ['v1'], undefined, { audit: push('v1') })).toEqual({ audited: false });
    expect(calls.snapshot()).toEqual({ BatchGetItem: 1 });
  } finally {
    client.destroy();
  }
});
