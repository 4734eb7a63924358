// AWS faults at the API level through start:aws (issue 7): the real adapters over DynamoDB Local and
// s3rver, with one SDK call made to fail by aws-sdk-client-mock (every other call goes through to
// the real service). A fault that outlasted the SDK's retries is 429 TOOMANYREQUESTS (throttling,
// SlowDown, contention) or 503 UNAVAILABLE (a timeout) with Retry-After; nothing is half written;
// the next request succeeds. Races the adapter must win
// (ConditionalCheckFailed, TransactionCanceled) are retried inside and never reach the client.
import { randomBytes } from 'node:crypto';
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { CompleteMultipartUploadCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CountableClient } from '../../functions/aws/call-counter.ts';
import { getItemClientOf } from '../../functions/adapters/dynamodb/get-item-client.ts';
import { imageManifest, OCI_MANIFEST, pushBlobPut, putManifest, settleEvents, sha256, startCounted, startUpload, withDigest, type Counted } from '../support/counted-start-aws.ts';

let reg: Counted;
let base: string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let ddb: AwsStub<any, any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let s3: AwsStub<any, any, any>;

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'fault', attempts: 4, totalRetryDelay: 1500 });
const throughput = () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: meta(400) });
const throttling = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $fault: 'client', $metadata: meta(400), $retryable: { throttling: true } });
const slowDown = () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: meta(503), message: 'Please reduce your request rate.' });
const timeout = () => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
const cancelled = (...codes: string[]) => new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: meta(400), CancellationReasons: codes.map((Code) => ({ Code })) });

/**
 * Every call goes through to DynamoDB Local / s3rver, except what `faults` sets up. The mocks are
 * reset first: Sinon counts `onCall(n)` over every matching call since the last reset.
 */
/**
 * The store's single-item reads (GetItem) go the lean way (get-item-client.ts), past the SDK client's
 * `send`: the next one fails with `error` (as the SDK's would after its own retries).
 */
function failNextGetItem(error: Error): void {
  const reads = getItemClientOf(reg.local.deps.dynamo);
  reads.middlewareStack.add(() => async () => {
    reads.middlewareStack.remove('failNextGetItem');
    throw error;
  }, { step: 'initialize', name: 'failNextGetItem', priority: 'high' });
}

function passThrough(faults: () => void = () => undefined): void {
  getItemClientOf(reg.local.deps.dynamo).middlewareStack.remove('failNextGetItem');
  ddb.reset();
  s3.reset();
  ddb.send.callThrough();
  s3.send.callThrough();
  faults();
}

beforeAll(async () => {
  reg = await startCounted({ ingest: false });
  base = reg.local.url;
  ddb = mockClient(DynamoDBDocumentClient);
  s3 = mockClient(reg.local.deps.s3);
  passThrough();
}, 120_000);

afterEach(() => passThrough());

afterAll(async () => {
  ddb?.restore();
  s3?.restore();
  await reg?.close();
});

/** `status` with `code` (no body for a HEAD) and Retry-After. */
async function expectRetryLater(r: Response, status: number, code: string, head: boolean): Promise<void> {
  const text = await r.text();
  expect(r.status, text).toBe(status);
  if (!head) expect((JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code).toBe(code);
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

/** Throttling and contention: 429 TOOMANYREQUESTS with Retry-After. */
const expectBusy = (r: Response, head = false) => expectRetryLater(r, 429, 'TOOMANYREQUESTS', head);
/** A fault of the service or the network: 503 UNAVAILABLE with Retry-After. */
const expectUnavailable = (r: Response) => expectRetryLater(r, 503, 'UNAVAILABLE', false);


/** Lets calls of `command` through except the n-th (from 0) after the last reset, which fails. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function failNth(stub: AwsStub<any, any, any>, command: new (...a: never[]) => unknown, n: number, error: Error): void {
  // The command's Sinon stub (withArgs on the client's send), as aws-sdk-client-mock keeps it.
  const cmd = (stub.on(command as never) as unknown as { send: { callThrough(): void; onCall(i: number): { rejects(e: Error): void } } }).send;
  cmd.callThrough();
  cmd.onCall(n).rejects(error);
}

const getTag = (repo: string, tag: string) => fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
const MiB = 1024 * 1024;

/** A pushed config blob and an image manifest over it (not pushed), with events settled. */
async function image(repo: string, layers: Uint8Array[] = []): Promise<ReturnType<typeof imageManifest>> {
  const config = randomBytes(120);
  await pushBlobPut(base, repo, config);
  for (const l of layers) await pushBlobPut(base, repo, l);
  await settleEvents(reg.local);
  return imageManifest(config, layers);
}

async function expectManifestAbsent(repo: string, tag: string, digest: string): Promise<void> {
  expect((await getTag(repo, tag)).status).toBe(404);
  expect((await fetch(`${base}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(404);
  const tags = await fetch(`${base}/v2/${repo}/tags/list`);
  const list = tags.status === 200 ? ((await tags.json()) as { tags: string[] | null }).tags ?? [] : [];
  expect(list).not.toContain(tag);
}

async function expectManifest(repo: string, tag: string, digest: string): Promise<void> {
  const r = await getTag(repo, tag);
  expect(r.status).toBe(200);
  expect(sha256(Buffer.from(await r.arrayBuffer()))).toBe(digest);
}

function putRaw(repo: string, ref: string, body: Uint8Array): Promise<Response> {
  return fetch(`${base}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } });
}

/** GET on an upload session: its recorded size (from Range), or the status when not 204. */
async function sessionSize(location: string): Promise<number | string> {
  const r = await fetch(location);
  await r.arrayBuffer();
  if (r.status !== 204) return `status ${r.status}`;
  const range = r.headers.get('range') ?? '';
  const m = /^0-(\d+)$/.exec(range);
  // An empty session answers `0-0` (the sizes used here are never 1 byte).
  return m && range !== '0-0' ? Number(m[1]) + 1 : 0;
}

function patch(location: string, body: Uint8Array, from: number): Promise<Response> {
  return fetch(location, {
    method: 'PATCH',
    body,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${from + body.length - 1}` },
  });
}

describe('throttling: 429 TOOMANYREQUESTS with Retry-After, nothing written, the next request succeeds', () => {
  it('manifest GET by tag: GetItem ProvisionedThroughputExceeded', async () => {
    const img = await image('f/get');
    await putManifest(base, 'f/get', 'v1', img.manifest);
    await settleEvents(reg.local);
    passThrough(() => failNextGetItem(throughput()));
    await expectBusy(await getTag('f/get', 'v1'));
    await expectManifest('f/get', 'v1', img.digest);
  });

  it('blob HEAD: GetItem ThrottlingException', async () => {
    const bytes = randomBytes(500);
    const digest = await pushBlobPut(base, 'f/head', bytes);
    await settleEvents(reg.local);
    passThrough(() => failNextGetItem(throttling()));
    await expectBusy(await fetch(`${base}/v2/f/head/blobs/${digest}`, { method: 'HEAD' }), true);
    const r = await fetch(`${base}/v2/f/head/blobs/${digest}`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe('500');
  });

  it('upload POST: PutItem ProvisionedThroughputExceeded gives no session', async () => {
    passThrough(() => ddb.on(PutCommand).rejectsOnce(throughput()));
    const r = await fetch(`${base}/v2/f/post/blobs/uploads/`, { method: 'POST' });
    expect(r.headers.get('location')).toBeNull();
    await expectBusy(r);
    expect(await startUpload(base, 'f/post')).toContain('/v2/f/post/blobs/uploads/');
  });

  it('manifest PUT: TransactWriteItems ThrottlingException leaves no manifest, tag or listing', async () => {
    const img = await image('f/put');
    passThrough(() => ddb.on(TransactWriteCommand).rejectsOnce(throttling()));
    await expectBusy(await putRaw('f/put', 'v1', img.manifest));
    await expectManifestAbsent('f/put', 'v1', img.digest);
    expect((await putManifest(base, 'f/put', 'v1', img.manifest)).status).toBe(201);
    await expectManifest('f/put', 'v1', img.digest);
  });
});

describe('S3 SlowDown (a 503 from S3): 429 to the client', () => {
  it('a chunk PATCHed through the API: 429, the session stays at its offset, the retried chunk and the commit succeed', async () => {
    const bytes = randomBytes(3 * MiB);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'f/slow');
    const first = await patch(loc, bytes.subarray(0, MiB), 0);
    expect(first.status).toBe(202);
    const next = new URL(first.headers.get('location') ?? '', base).href;
    passThrough(() => s3.on(PutObjectCommand).rejectsOnce(slowDown()));
    await expectBusy(await patch(next, bytes.subarray(MiB, 2 * MiB), MiB));
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
    // Nothing of the failed chunk counts: the session still holds 1 MiB, and its lease is free.
    expect(await sessionSize(next)).toBe(MiB);
    const again = await patch(next, bytes.subarray(MiB), MiB);
    expect(again.status).toBe(202);
    const done = await fetch(withDigest(new URL(again.headers.get('location') ?? '', base).href, digest), { method: 'PUT' });
    expect(done.status).toBe(201);
    const back = await fetch(`${base}/v2/f/slow/blobs/${digest}`);
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(digest);
  });

  it('the commit of an upload: 429, no blob visible, the retried PUT creates it', async () => {
    const bytes = randomBytes(6 * MiB);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'f/commit');
    const p = await patch(loc, bytes.subarray(0, 4 * MiB), 0);
    const p2 = await patch(new URL(p.headers.get('location') ?? '', base).href, bytes.subarray(4 * MiB), 4 * MiB);
    expect(p2.status).toBe(202);
    const put = withDigest(new URL(p2.headers.get('location') ?? '', base).href, digest);
    passThrough(() => {
      s3.on(CompleteMultipartUploadCommand).rejectsOnce(slowDown());
      s3.on(PutObjectCommand).rejectsOnce(slowDown());
    });
    await expectBusy(await fetch(put, { method: 'PUT' }));
    expect(s3.commandCalls(CompleteMultipartUploadCommand).length + s3.commandCalls(PutObjectCommand).length).toBe(1);
    expect((await fetch(`${base}/v2/f/commit/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    passThrough();
    const r = await fetch(put, { method: 'PUT' });
    expect(r.status).toBe(201);
    const back = await fetch(`${base}/v2/f/commit/blobs/${digest}`);
    expect(sha256(Buffer.from(await back.arrayBuffer()))).toBe(digest);
  });
});

describe('timeouts: 503 UNAVAILABLE with Retry-After', () => {
  it('manifest PUT: the batch read times out; nothing written; the retry succeeds', async () => {
    const img = await image('f/timeout');
    passThrough(() => ddb.on(BatchGetCommand).rejectsOnce(timeout()));
    await expectUnavailable(await putRaw('f/timeout', 'v1', img.manifest));
    await expectManifestAbsent('f/timeout', 'v1', img.digest);
    expect((await putManifest(base, 'f/timeout', 'v1', img.manifest)).status).toBe(201);
    await expectManifest('f/timeout', 'v1', img.digest);
  });

  it('a PATCH whose session update times out after its bytes went to S3: 503, the session is dropped, a fresh upload succeeds', async () => {
    const bytes = randomBytes(MiB);
    const digest = sha256(bytes);
    const loc = await startUpload(base, 'f/update');
    // UpdateItem #1 takes the lease, #2 records the new offset and state: that one times out. The
    // write may or may not have applied, so the session and its bytes are dropped, never half kept.
    passThrough(() => failNth(ddb, UpdateCommand, 1, timeout()));
    await expectUnavailable(await patch(loc, bytes, 0));
    expect(ddb.commandCalls(UpdateCommand).length).toBeGreaterThanOrEqual(2);
    passThrough();
    expect(await sessionSize(loc)).toBe('status 404');
    expect((await fetch(`${base}/v2/f/update/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    const fresh = await startUpload(base, 'f/update');
    const r = await patch(fresh, bytes, 0);
    expect(r.status).toBe(202);
    const put = await fetch(withDigest(new URL(r.headers.get('location') ?? '', base).href, digest), { method: 'PUT' });
    expect(put.status).toBe(201);
  });
});

describe('ConditionalCheckFailed races and TransactionCanceled', () => {
  it('a tag moved by another writer (transaction cancelled: ConditionalCheckFailed) is re-read and the PUT succeeds', async () => {
    const img = await image('f/race');
    passThrough(() => ddb.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed')));
    expect((await putManifest(base, 'f/race', 'v1', img.manifest)).status).toBe(201);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    // First attempt from the references batch; the retry reads the manifest and tag again.
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
    await expectManifest('f/race', 'v1', img.digest);
  });

  it('concurrent PUTs of different manifests to one tag: all accepted, the tag names one of them', async () => {
    const imgs = await Promise.all([0, 1, 2, 3].map(() => image('f/tags')));
    const results = await Promise.all(imgs.map((i) => putRaw('f/tags', 'v1', i.manifest)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const r = await getTag('f/tags', 'v1');
    const digest = sha256(Buffer.from(await r.arrayBuffer()));
    expect(imgs.map((i) => i.digest)).toContain(digest);
    for (const i of imgs) expect((await fetch(`${base}/v2/f/tags/manifests/${i.digest}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(200);
  });

  it('two PATCHes racing for one session: one wins the lease (conditional update), the other gets 416 and no bytes count twice', async () => {
    const bytes = randomBytes(2 * MiB);
    const loc = await startUpload(base, 'f/lease');
    const [a, b] = await Promise.all([patch(loc, bytes, 0), patch(loc, bytes, 0)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([202, 416]);
    expect(await sessionSize(loc)).toBe(2 * MiB);
    const winner = a.status === 202 ? a : b;
    const put = await fetch(withDigest(new URL(winner.headers.get('location') ?? '', base).href, sha256(bytes)), { method: 'PUT' });
    expect(put.status).toBe(201);
  });

  it('a transaction that keeps conflicting: 429 after the adapter retries, nothing written, then success', async () => {
    const img = await image('f/conflict');
    passThrough(() => ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict')));
    await expectBusy(await putRaw('f/conflict', 'v1', img.manifest));
    expect(ddb.commandCalls(TransactWriteCommand).length).toBeGreaterThan(1);
    passThrough();
    await expectManifestAbsent('f/conflict', 'v1', img.digest);
    expect((await putManifest(base, 'f/conflict', 'v1', img.manifest)).status).toBe(201);
    await expectManifest('f/conflict', 'v1', img.digest);
  }, 30_000);

  it('a transaction cancelled by throttling: 429, nothing written, then success', async () => {
    const img = await image('f/cancel');
    passThrough(() => ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ThrottlingError')));
    const calls = ddb.commandCalls(TransactWriteCommand).length;
    await expectBusy(await putRaw('f/cancel', 'v1', img.manifest));
    expect(ddb.commandCalls(TransactWriteCommand).length - calls).toBe(1);
    await expectManifestAbsent('f/cancel', 'v1', img.digest);
    expect((await putManifest(base, 'f/cancel', 'v1', img.manifest)).status).toBe(201);
  });
});

describe('IAM refusing the registry its own storage (a deployment fault)', () => {
  it('a blob HEAD whose HeadObject S3 refuses with 403: a 500 that says storage access was denied, and a log line naming the IAM action', async () => {
    // Below the SDK's own steps, as S3 would answer a role without s3:ListBucket for a missing key.
    const s3client = reg.local.deps.s3 as unknown as CountableClient;
    s3client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'HeadObjectCommand') throw new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: meta(403), message: 'Forbidden' });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'forbidHeadObject', priority: 'low' },
    );
    const logged: string[] = [];
    const spies = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')];
    for (const spy of spies) spy.mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    try {
      const r = await fetch(`${base}/v2/iam/denied/blobs/${sha256(randomBytes(8))}`);
      const body = (await r.json()) as { errors: { code: string; message: string; detail: { action?: string } }[] };
      expect(r.status).toBe(500);
      expect(body.errors[0]).toMatchObject({ code: 'UNKNOWN', message: 'storage access denied' });
      expect(body.errors[0]!.detail.action).toMatch(/^s3:GetObject \(or s3:ListBucket/);
    } finally {
      for (const spy of spies) spy.mockRestore();
      s3client.middlewareStack.remove('forbidHeadObject');
    }
    const line = logged.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'permission denied');
    expect(line).toMatchObject({ level: 'ERROR', command: 's3:HeadObject', path: expect.stringMatching(/^\/v2\/iam\/denied\/blobs\//) });
    expect(String(line?.action)).toContain('s3:ListBucket');
    // The next request, with the grant back, is answered as usual.
    expect((await fetch(`${base}/v2/iam/denied/blobs/${sha256(randomBytes(8))}`, { method: 'HEAD' })).status).toBe(404);
  });
});
