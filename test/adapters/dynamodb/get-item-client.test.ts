// The lean GetItem (functions/adapters/dynamodb/get-item-client.ts) against DynamoDB Local over the
// wire, and through a proxy that answers with faults (throttling, 500, a reset socket, an expired
// token) before passing requests on: each outcome (item or error name, HTTP status, attempts, requests
// sent) is held against what the SDK's own GetItemCommand does through the same faults.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type GetItemCommandInput } from '@aws-sdk/client-dynamodb';
import { GetItemClient, getItemClientOf } from '../../../functions/adapters/dynamodb/get-item-client.ts';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { recordCalls } from '../../../functions/aws/call-recorder.ts';
import { nameCommandsInErrors, permissionDenied } from '../../../functions/aws/permission-errors.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

type Fault = 'throttle' | 'server' | 'reset' | 'expired' | 'denied' | 'skew';

const FAULT_ANSWERS: Record<Exclude<Fault, 'reset'>, { status: number; type: string; message: string }> = {
  throttle: { status: 400, type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' },
  server: { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
  expired: { status: 400, type: 'com.amazon.coral.service#ExpiredTokenException', message: 'The security token included in the request is expired' },
  denied: { status: 400, type: 'com.amazon.coral.service#AccessDeniedException', message: 'User is not authorized to perform: dynamodb:GetItem' },
  // A clock an hour behind DynamoDB's (the answer's Date says so).
  skew: { status: 400, type: 'com.amazon.coral.service#InvalidSignatureException', message: 'Signature not yet current' },
};
const SKEW_MS = 3_600_000;

/** Forwards to DynamoDB Local, answering the next requests with `faults` first; keeps each request's headers. */
class FaultProxy {
  faults: Fault[] = [];
  seen: IncomingMessage['headers'][] = [];
  private server: Server | undefined;
  url = '';

  async start(target: string): Promise<void> {
    const to = new URL(target);
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.seen.push(req.headers);
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const fault = this.faults.shift();
        if (fault === 'reset') {
          req.socket.destroy();
          return;
        }
        if (fault) {
          const a = FAULT_ANSWERS[fault];
          const date = new Date(Date.now() + (fault === 'skew' ? SKEW_MS : 0)).toUTCString();
          res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault', date }).end(JSON.stringify({ __type: a.type, message: a.message }));
          return;
        }
        const up = request(to, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.writeHead(502).end());
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.faults = [];
    this.seen = [];
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const dynamo = useDynamoLocal();
const proxy = new FaultProxy();
let table: string;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const key = { pk: { S: 'R#team/app' }, sk: { S: 'T#v1' } };
const bytes = (...b: number[]) => new Uint8Array(b);
/** Every shape that carries bytes (base64 on the wire), nested too. */
const attributes = {
  digest: { S: 'sha256:abc' }, size: { N: '42' }, body: { B: bytes(1, 2, 3) }, set: { BS: [bytes(4), bytes(5, 6)] },
  nested: { M: { b: { B: bytes(7) }, list: { L: [{ B: bytes(8, 9) }, { S: 'x' }, { M: { deep: { B: bytes(10) } } }] } } },
};
const input = (): GetItemCommandInput => ({ TableName: table, Key: key, ConsistentRead: true });
/** As the deployed processes configure it (functions/aws/deps.ts). */
const client = (extra: Partial<ConstructorParameters<typeof DynamoDBClient>[0]> = {}) =>
  new DynamoDBClient({ region: 'us-east-1', maxAttempts: 4, endpoint: proxy.url, credentials, ...extra });

beforeAll(async () => {
  await proxy.start(dynamo.get().endpoint);
  table = await dynamo.get().createTable();
  await client().send(new PutItemCommand({ TableName: table, Item: { ...key, ...attributes } }));
}, 90_000);

afterAll(async () => {
  await proxy.stop();
});

interface Outcome {
  item?: unknown;
  error?: string;
  status?: number;
  attempts?: number;
  requests: number;
}

async function outcome(get: () => Promise<{ Item?: unknown; $metadata: { attempts?: number } }>): Promise<Outcome> {
  proxy.seen = [];
  try {
    const out = await get();
    return { item: out.Item, attempts: out.$metadata.attempts, requests: proxy.seen.length };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    return { error: err.name, status: err.$metadata?.httpStatusCode, attempts: err.$metadata?.attempts, requests: proxy.seen.length };
  }
}

/** The same GetItem through the SDK and through the lean client, each behind the same faults. */
async function both(faults: Fault[]): Promise<{ sdk: Outcome; lean: Outcome }> {
  const c = client();
  proxy.reset();
  proxy.faults = [...faults];
  const sdk = await outcome(() => c.send(new GetItemCommand(input())));
  proxy.faults = [...faults];
  const lean = await outcome(() => getItemClientOf(c).getItem(input()));
  return { sdk, lean };
}

describe('GetItemClient', () => {
  it('reads an item as the SDK does (same attribute values, one request)', async () => {
    const { sdk, lean } = await both([]);
    expect(lean).toEqual(sdk);
    expect(lean.item).toEqual({ ...key, ...attributes });
    expect(lean).toMatchObject({ attempts: 1, requests: 1 });
    const missing = await getItemClientOf(client()).getItem({ TableName: table, Key: { pk: { S: 'R#none' }, sk: { S: 'T#none' } } });
    expect(missing.Item).toBeUndefined();
  });

  it('signs with SigV4 for dynamodb in the client region, session token included', async () => {
    const c = client({ region: 'eu-west-2', credentials: { ...credentials, sessionToken: 'session-1' } });
    proxy.reset();
    await getItemClientOf(c).getItem(input());
    const h = proxy.seen[0]!;
    expect(h.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-2\/dynamodb\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(h['x-amz-security-token']).toBe('session-1');
    expect(h['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(h.connection).toBe('keep-alive');
  });

  it('retries throttling and 500s with backoff, as the SDK does', async () => {
    for (const faults of [['throttle'], ['server', 'server']] as Fault[][]) {
      const { sdk, lean } = await both(faults);
      expect(lean).toEqual(sdk);
      expect(lean).toMatchObject({ attempts: faults.length + 1, requests: faults.length + 1 });
      expect(lean.item).toBeDefined();
    }
  });

  it('retries a reset socket, as the SDK does', async () => {
    const { sdk, lean } = await both(['reset']);
    expect(lean).toEqual(sdk);
    expect(lean).toMatchObject({ attempts: 2, requests: 2 });
  });

  it('gives up after the client maxAttempts with the service error (name, status, attempts)', async () => {
    const { sdk, lean } = await both(['server', 'server', 'server', 'server']);
    expect(lean).toEqual(sdk);
    expect(lean).toEqual({ error: 'InternalServerError', status: 500, attempts: 4, requests: 4 });
  });

  it('an expired token fails without retries, as with the SDK; credentials are refreshed from the provider before they expire', async () => {
    const { sdk, lean } = await both(['expired']);
    expect(lean).toEqual(sdk);
    expect(lean).toEqual({ error: 'ExpiredTokenException', status: 400, attempts: 1, requests: 1 });
    let issued = 0;
    const expiring = async () => ({ ...credentials, sessionToken: `token-${++issued}`, expiration: new Date(Date.now() + 60_000) });
    const lean2 = getItemClientOf(client({ credentials: expiring }));
    proxy.reset();
    await lean2.getItem(input());
    await lean2.getItem(input());
    // Within the SDK's five-minute refresh window: each call gets fresh credentials from the provider.
    const tokens = proxy.seen.map((h) => h['x-amz-security-token']);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatch(/^token-\d+$/);
    expect(new Set(tokens).size).toBe(2);
  });

  it('corrects its clock offset from a clock-skew answer and retries, as the SDK does', async () => {
    const seen: { outcome: Outcome; offset: number; dates: string[] }[] = [];
    for (const lean of [false, true]) {
      const c = client();
      proxy.reset();
      proxy.faults = ['skew'];
      const result = await outcome(() => (lean ? getItemClientOf(c).getItem(input()) : c.send(new GetItemCommand(input()))));
      seen.push({ outcome: result, offset: (c.config as { systemClockOffset?: number }).systemClockOffset ?? 0, dates: proxy.seen.map((h) => String(h['x-amz-date'])) });
    }
    const [sdk, lean] = seen;
    expect(lean!.outcome).toEqual(sdk!.outcome);
    expect(lean!.outcome).toMatchObject({ attempts: 2, requests: 2 });
    expect(Math.abs(lean!.offset - SKEW_MS)).toBeLessThan(60_000);
    // The retry is signed on the server's clock: an hour after the first attempt.
    const at = (d: string) => Date.parse(d.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(at(lean!.dates[1]!) - at(lean!.dates[0]!)).toBeGreaterThan(SKEW_MS - 60_000);
  });

  it('is seen by call counting, call recording and error naming attached to its DynamoDB client', async () => {
    const c = client();
    nameCommandsInErrors(c, 'dynamodb');
    const counts = countCalls(c);
    const records = recordCalls(c);
    proxy.reset();
    proxy.faults = ['throttle'];
    await getItemClientOf(c).getItem(input());
    expect(counts.calls).toEqual({ GetItem: 1 });
    expect(counts.attempts).toEqual({ GetItem: 2 });
    expect(records.records).toEqual([{ operation: 'GetItem', tables: [{ table, actions: ['GetItem'], leadingKeys: ['R#team/app'] }], status: 200 }]);
    proxy.faults = ['denied'];
    const error = await getItemClientOf(c).getItem(input()).catch((e: unknown) => e);
    expect(permissionDenied(error)).toEqual({ command: 'dynamodb:GetItem', action: 'dynamodb:GetItem' });
    expect(records.records[1]).toMatchObject({ operation: 'GetItem', status: 400 });
    counts.detach();
    records.detach();
    await getItemClientOf(c).getItem(input());
    expect(counts.calls).toEqual({ GetItem: 2 });
  });

  it('refuses middleware at steps it does not run', () => {
    expect(() => new GetItemClient(client()).middlewareStack.add((next) => next, { step: 'build', name: 'x' })).toThrow(/initialize and finalizeRequest only/);
  });
});
