// The bench's in-process wire (bench/memory-wire.ts): a node:http client gets the upstream's answer
// byte for byte, the first request of a kind over a real socket and every later one from memory.
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { installMemoryWire } from '../../bench/memory-wire.ts';

let upstream: ReturnType<typeof createServer>;
let url: string;
let seen = 0;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      seen++;
      const body = Buffer.concat(chunks).toString();
      res.writeHead(body === 'bad' ? 400 : 200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `r${seen}` }).end(JSON.stringify({ echo: body, target: req.headers['x-amz-target'] }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

function post(agent: Agent, target: string, body: string): Promise<{ status: number; id: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'x-amz-target': target, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: res.headers['x-amzn-requestid'] as string | undefined, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('answers repeat requests from memory over kept-alive in-memory connections, and uninstalls', async () => {
  const wire = installMemoryWire(url);
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    const first = await post(agent, 'DynamoDB_20120810.GetItem', '{"k":1}');
    expect(first).toEqual({ status: 200, id: 'r1', body: '{"echo":"{\\"k\\":1}","target":"DynamoDB_20120810.GetItem"}' });
    const again = await Promise.all([1, 2, 3, 4].map(() => post(agent, 'DynamoDB_20120810.GetItem', '{"k":1}')));
    for (const r of again) expect(r).toEqual(first);
    // Another body is another kind of request; an error answer is never kept.
    expect((await post(agent, 'DynamoDB_20120810.GetItem', '{"k":2}')).id).toBe('r2');
    expect((await post(agent, 'DynamoDB_20120810.Query', 'bad')).status).toBe(400);
    expect((await post(agent, 'DynamoDB_20120810.Query', 'bad')).id).toBe('r4');
    expect(wire.stats).toEqual({ memory: 4, forwarded: 4 });
  } finally {
    agent.destroy();
    wire.uninstall();
  }
  const direct = new Agent({ keepAlive: false });
  expect((await post(direct, 'x', '{"k":1}')).id).toBe('r5');
  expect(wire.stats.forwarded).toBe(4);
});
