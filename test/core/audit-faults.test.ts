// An audit write that fails or hangs never fails or holds up what it records: a push through the
// registry core whose audit store is the DynamoDB adapter over a client that is throttled (or never
// answers) still answers 201 at once; the entry is in the log line (`audit write failed`, whole) and
// the failure is counted (the metric in AWS).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../functions/adapters/dynamodb/dynamo-audit.ts';
import { FsBlobStore } from '../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { allowAll } from '../../functions/core/access.ts';
import { AuditRecorder } from '../../functions/core/audit.ts';
import type { RegistryRequest } from '../../functions/core/http.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from '../support/oci.ts';
import { tinyImage } from '../support/tiny-image.ts';

const mock = mockClient(DynamoDBDocumentClient);
let dir: string;
let metadata: SqliteMetadataStore;
let blobs: FsBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audit-faults-'));
  metadata = new SqliteMetadataStore(':memory:');
  blobs = new FsBlobStore(dir, new TokenSigner(randomBytes(32)));
  await blobs.init();
});

afterAll(async () => {
  metadata.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  mock.reset();
});

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

const request = (method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): RegistryRequest => {
  const url = new URL(path, 'http://registry');
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { method, path: url.pathname, query: url.searchParams, headers: { ...(bytes ? { 'content-length': String(bytes.length) } : {}), ...headers }, clientAddress: '192.0.2.7', ...(bytes ? { body: once(bytes) } : {}) };
};

/** Pushes a tiny image as `repo:v1`; the manifest PUT's status and how long it took. */
async function push(registry: Registry, repo: string): Promise<{ status: number; ms: number }> {
  const image = tinyImage();
  for (const [bytes, digest] of [[Buffer.from('{}'), EMPTY_DESCRIPTOR.digest], [image.layer, image.layerDigest]] as const) {
    expect((await registry(request('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, bytes))).status).toBe(201);
  }
  const started = performance.now();
  const res = await registry(request('PUT', `/v2/${repo}/manifests/v1`, image.manifest, { 'content-type': OCI_MANIFEST }));
  return { status: res.status, ms: performance.now() - started };
}

function harness(writeTimeoutMs = 1000) {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const failed: string[] = [];
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const audit = new AuditRecorder({
    store: new DynamoAuditLog(client, 't'), writeTimeoutMs,
    log: (level, msg, fields) => lines.push({ level, msg, fields }),
    onWriteFailed: (entry) => failed.push(entry.action),
  });
  const registry = createRegistry({ metadata, blobs, authorizer: allowAll, uploadTokens: new TokenSigner(randomBytes(32)), audit });
  return { registry, audit, lines, failed };
}

describe('audit writes under faults', () => {
  it('a throttled table: the push answers 201; the entry is logged whole with the error, and counted', async () => {
    mock.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: {} }));
    const h = harness();
    expect((await push(h.registry, 'faults/throttled')).status).toBe(201);
    expect(mock.commandCalls(UpdateCommand).length).toBeGreaterThan(0);
    expect(h.failed).toEqual(['push']);
    expect(h.audit.writeFailures).toBe(1);
    const line = h.lines.find((l) => l.msg === 'audit write failed');
    expect(line).toMatchObject({ level: 'error', fields: { action: 'push', actor: 'anonymous', address: '192.0.2.7', repository: 'faults/throttled', target: 'v1' } });
    expect(String(line?.fields.error)).toContain('ProvisionedThroughputExceeded');
    // The line every entry has, before the store is asked.
    expect(h.lines.filter((l) => l.msg === 'audit' && l.fields.action === 'push')).toHaveLength(1);
  });

  it('a table that never answers: the push answers once the write timeout passes, not later; the entry is logged and counted', async () => {
    mock.on(UpdateCommand).callsFake(() => new Promise(() => undefined));
    const h = harness(200);
    const { status, ms } = await push(h.registry, 'faults/hung');
    expect(status).toBe(201);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(2000);
    expect(h.failed).toEqual(['push']);
    expect(String(h.lines.find((l) => l.msg === 'audit write failed')?.fields.error)).toContain('no answer within 200 ms');
  });

  it('a healthy table: one write per push (the entry; the project listed once per process)', async () => {
    mock.on(UpdateCommand).resolves({});
    const h = harness();
    for (const repo of ['faults/ok', 'faults/ok2']) expect((await push(h.registry, repo)).status).toBe(201);
    const keys = mock.commandCalls(UpdateCommand).map((c) => String(c.args[0].input.Key?.pk));
    expect(keys).toEqual(['AUDIT#P#faults', 'AUDIT#PROJECTS', 'AUDIT#P#faults']);
    expect(h.failed).toEqual([]);
  });
});
