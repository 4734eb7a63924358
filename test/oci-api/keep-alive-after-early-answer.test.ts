// OCI's chunked upload with an out-of-order chunk: the registry answers 416 before it has read the
// chunk's body, and the client goes on using the same keep-alive connection (as Go's and Node's
// HTTP clients do). The next requests on that connection must be answered at once, on both
// backends: under start:aws a body that large goes through the front door to ingest.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'vitest';
import { bytes, registryPerFile, sha256, uniqueRepo, type Client } from './client.ts';

let c: Client;
registryPerFile((client) => (c = client));

interface Answer {
  status: number;
  location?: string;
  range?: string;
  socket: number;
}

/** One request on `agent` (one socket at most); `socket` names the connection it went on. */
function send(agent: Agent, method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: `${u.pathname}${u.search}`, agent, headers: { ...headers, 'content-length': String(body?.length ?? 0) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, range: res.headers.range as string | undefined, socket: sockets.get(req.socket!) ?? -1 }));
    });
    req.on('socket', (s) => {
      if (!sockets.has(s)) sockets.set(s, sockets.size);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${u.pathname}: no answer within 10 s`)));
    req.end(body);
  });
}
const sockets = new Map<object, number>();

describe('keep-alive after an early answer', () => {
  it('a chunk out of order (416, answered before its 8 MiB body is read), then the right chunks and the PUT, all on one connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const repo = uniqueRepo('early');
      const data = bytes(9 * 1024 * 1024);
      const post = await send(agent, 'POST', c.resolve(`/v2/${repo}/blobs/uploads/`));
      assert.equal(post.status, 202);
      let location = c.resolve(post.location!);
      const wrong = await send(agent, 'PATCH', location, data.subarray(1024), { 'content-range': `1024-${data.length - 1}`, 'content-type': 'application/octet-stream' });
      assert.equal(wrong.status, 416);
      const first = await send(agent, 'PATCH', location, data.subarray(0, 1024), { 'content-range': '0-1023', 'content-type': 'application/octet-stream' });
      assert.equal(first.status, 202);
      assert.equal(first.range, '0-1023');
      location = c.resolve(first.location!);
      const rest = await send(agent, 'PATCH', location, data.subarray(1024), { 'content-range': `1024-${data.length - 1}`, 'content-type': 'application/octet-stream' });
      assert.equal(rest.status, 202);
      location = c.resolve(rest.location!);
      const done = await send(agent, 'PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(sha256(data))}`);
      assert.equal(done.status, 201);
      const head = await send(agent, 'HEAD', c.resolve(`/v2/${repo}/blobs/${sha256(data)}`));
      assert.equal(head.status, 200);
      // Every request after the 416 went on the connection the 416 came on.
      assert.deepEqual([wrong, first, rest, done, head].map((a) => a.socket), [0, 0, 0, 0, 0]);
    } finally {
      agent.destroy();
    }
  });
});
