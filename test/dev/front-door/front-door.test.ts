// The local front door over real sockets: the API Lambda handler (on the local adapters) behind the
// API Gateway emulation, and a fake ingest origin that counts the bytes it receives.
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../../dev/front-door/apigw-http.ts';
import { startFrontDoor, type FrontDoor } from '../../../dev/front-door/server.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from '../../support/oci.ts';
import { lambdaFixture, type LambdaFixture } from '../../apps/api-lambda/fixture.ts';

const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface SendOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send the body in chunks of this size with Transfer-Encoding: chunked. */
  chunked?: number;
}

function send(base: string, method: string, path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body && !opts.chunked) headers['content-length'] = String(opts.body.byteLength);
    const req = request(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body && opts.chunked) {
      for (let i = 0; i < opts.body.byteLength; i += opts.chunked) req.write(opts.body.subarray(i, i + opts.chunked));
      req.end();
    } else req.end(opts.body);
  });
}

const code = (r: Reply) => (JSON.parse(r.body.toString()) as { errors?: { code: string }[] }).errors?.[0]?.code;

interface FakeIngest {
  url: string;
  server: Server;
  requests: { method: string; url: string; bytes: number; headers: IncomingHttpHeaders }[];
}

async function fakeIngest(): Promise<FakeIngest> {
  const requests: FakeIngest['requests'] = [];
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.byteLength));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', bytes, headers: req.headers });
      res.writeHead(202, { location: req.url ?? '/', range: `0-${bytes - 1}`, 'content-length': '0', 'x-served-by': 'ingest' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

let f: LambdaFixture;
let door: FrontDoor;
let ingest: FakeIngest | undefined;
/** Invocations of the Lambda handler and the body bytes they carried. */
let invocations: { path: string; bodyBytes: number }[];

function counting(handler: LambdaHandler): LambdaHandler {
  return async (event, context) => {
    const bodyBytes = event.body === undefined ? 0 : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').byteLength;
    invocations.push({ path: event.rawPath, bodyBytes });
    return handler(event, context);
  };
}

async function start(withIngest: boolean, localStats = false): Promise<void> {
  ingest = withIngest ? await fakeIngest() : undefined;
  door = await startFrontDoor({ host: '127.0.0.1', port: 0, handler: counting(f.handler), ...(ingest ? { ingestUrl: ingest.url } : {}), localStats });
}

/** Sends raw bytes, half-closes (FIN) right after them, and returns everything the server wrote back. */
function rawHalfClose(base: string, text: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => socket.end(text));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

beforeEach(async () => {
  invocations = [];
  f = await lambdaFixture();
});
afterEach(async () => {
  await door?.close();
  if (ingest) await new Promise<void>((resolve) => ingest!.server.close(() => resolve()));
  await f.close();
});

describe('front door, API path', () => {
  it('pushes and pulls an image through API Gateway events (binary bodies base64 both ways)', async () => {
    await start(false);
    const layer = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) & 0xff));
    const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
    const post = await send(door.url, 'POST', '/v2/fd/app/blobs/uploads/');
    expect(post.status).toBe(202);
    const patch = await send(door.url, 'PATCH', post.headers.location!, { body: layer, headers: { 'content-type': 'application/octet-stream' } });
    expect(patch.status, patch.body.toString()).toBe(202);
    expect(patch.headers.range).toBe(`0-${layer.byteLength - 1}`);
    const put = await send(door.url, 'PUT', `${patch.headers.location!}&digest=${sha256(layer)}`, { body: Buffer.alloc(0) });
    expect(put.status).toBe(201);
    expect((await send(door.url, 'POST', `/v2/fd/app/blobs/uploads/?digest=${sha256(config)}`, { body: config })).status).toBe(201);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.byteLength },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.byteLength }],
    });
    const mput = await send(door.url, 'PUT', '/v2/fd/app/manifests/latest', { body: Buffer.from(manifest), headers: { 'content-type': OCI_MANIFEST } });
    expect(mput.status).toBe(201);
    const get = await send(door.url, 'GET', '/v2/fd/app/manifests/latest', { headers: { accept: OCI_MANIFEST } });
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe(manifest);
    expect(get.headers['content-length']).toBe(String(Buffer.byteLength(manifest)));
    const head = await send(door.url, 'HEAD', '/v2/fd/app/manifests/latest', { headers: { accept: OCI_MANIFEST } });
    expect(head.status).toBe(200);
    expect(head.body.byteLength).toBe(0);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(manifest)));
    expect((await send(door.url, 'GET', `/v2/fd/app/blobs/${sha256(layer)}`)).status).toBe(307);
    // The handler saw the layer's bytes exactly once, decoded from base64.
    expect(invocations.find((i) => i.bodyBytes === layer.byteLength)).toBeTruthy();
  });

  it('answers 413 with an OCI error above API Gateway 10 MB, declared or streamed, without invoking the Lambda', async () => {
    await start(false);
    const eleven = Buffer.alloc(11 * 1024 * 1024, 3);
    const declared = await send(door.url, 'PUT', '/v2/fd/app/manifests/v1', { body: eleven, headers: { 'content-type': OCI_MANIFEST } });
    expect(declared.status).toBe(413);
    expect(code(declared)).toBe('SIZE_INVALID');
    const streamed = await send(door.url, 'PATCH', '/v2/fd/app/blobs/uploads/abc', { body: eleven, chunked: 256 * 1024 });
    expect(streamed.status).toBe(413);
    expect(code(streamed)).toBe('SIZE_INVALID');
    expect(invocations).toEqual([]);
  });

  it('answers 413 when the event would pass Lambda 6 MiB request limit (a 5 MiB body is 6.7 MiB of base64)', async () => {
    await start(false);
    const five = Buffer.alloc(5 * 1024 * 1024, 4);
    const r = await send(door.url, 'POST', `/v2/fd/app/blobs/uploads/?digest=${sha256(five)}`, { body: five });
    expect(r.status).toBe(413);
    expect(code(r)).toBe('SIZE_INVALID');
    expect(invocations).toEqual([]);
  });

  it('takes a 4 MiB manifest PUT (5.6 MB of base64 in the event) and a small chunked PATCH, which arrives with its length', async () => {
    await start(false);
    await send(door.url, 'POST', `/v2/fd/big/blobs/uploads/?digest=${sha256('{}')}`, { body: Buffer.from('{}') });
    const base = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/x.big', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 }, layers: [], annotations: { pad: '' } };
    const manifest = Buffer.from(JSON.stringify({ ...base, annotations: { pad: 'x'.repeat(4 * 1024 * 1024 - Buffer.byteLength(JSON.stringify(base))) } }));
    expect(manifest.byteLength).toBe(4 * 1024 * 1024);
    const put = await send(door.url, 'PUT', '/v2/fd/big/manifests/v1', { body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    expect(put.status, put.body.toString().slice(0, 300)).toBe(201);
    const get = await send(door.url, 'GET', '/v2/fd/big/manifests/v1', { headers: { accept: OCI_MANIFEST } });
    expect(get.status).toBe(200);
    expect(get.body.equals(manifest)).toBe(true);

    const post = await send(door.url, 'POST', '/v2/fd/big/blobs/uploads/');
    const chunk = Buffer.alloc(100_000, 8);
    const patch = await send(door.url, 'PATCH', post.headers.location!, { body: chunk, chunked: 16_384 });
    expect(patch.status, patch.body.toString()).toBe(202);
    expect(patch.headers.range).toBe(`0-${chunk.byteLength - 1}`);
    expect(invocations.at(-1)).toEqual({ path: new URL(post.headers.location!, door.url).pathname, bodyBytes: chunk.byteLength });
  });

  it('a handler that throws is API Gateway 500 Internal Server Error', async () => {
    ingest = undefined;
    door = await startFrontDoor({ host: '127.0.0.1', port: 0, handler: async () => { throw new Error('crash'); } });
    const r = await send(door.url, 'GET', '/v2/');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body.toString())).toEqual({ message: 'Internal Server Error' });
  });
});

describe('front door, ingest path', () => {
  it('streams a chunked PATCH to the ingest origin, and no body byte reaches the Lambda', async () => {
    await start(true);
    const post = await send(door.url, 'POST', '/v2/fd/big/blobs/uploads/');
    expect(post.status).toBe(202);
    const body = Buffer.alloc(12 * 1024 * 1024, 5);
    const patch = await send(door.url, 'PATCH', post.headers.location!, { body, chunked: 1024 * 1024, headers: { 'content-type': 'application/octet-stream' } });
    expect(patch.status).toBe(202);
    expect(patch.headers['x-served-by']).toBe('ingest');
    expect(ingest!.requests).toHaveLength(1);
    expect(ingest!.requests[0]).toMatchObject({ method: 'PATCH', url: post.headers.location!, bytes: body.byteLength });
    // The token and the client's headers reach the ingest service as sent.
    expect(ingest!.requests[0]!.headers['content-type']).toBe('application/octet-stream');
    // Only the POST went to the Lambda, without a body.
    expect(invocations).toEqual([{ path: '/v2/fd/big/blobs/uploads/', bodyBytes: 0 }]);
  });

  it('forwards body bytes to ingest as they arrive, without waiting for the end of the body', async () => {
    let received = 0;
    let notify: (() => void) | undefined;
    const origin = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.byteLength;
        notify?.();
      });
      req.on('end', () => res.writeHead(202, { 'content-length': '0' }).end());
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    door = await startFrontDoor({ host: '127.0.0.1', port: 0, handler: counting(f.handler), ingestUrl: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` });
    try {
      const done = new Promise<number>((resolve, reject) => {
        const req = request(new URL('/v2/fd/s/blobs/uploads/abc', door.url), { method: 'PATCH' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write(Buffer.alloc(64 * 1024, 1));
        // The second half is sent only once the origin holds the first.
        const firstArrived = new Promise<void>((r) => (notify = () => received >= 64 * 1024 && r()));
        void firstArrived.then(() => req.end(Buffer.alloc(64 * 1024, 2)));
      });
      expect(await done).toBe(202);
      expect(received).toBe(128 * 1024);
    } finally {
      await new Promise<void>((resolve) => origin.close(() => resolve()));
    }
  });

  it('sends a PUT larger than a Lambda takes to ingest, and a small PATCH to the API', async () => {
    await start(true);
    const post = await send(door.url, 'POST', '/v2/fd/mix/blobs/uploads/');
    const small = Buffer.alloc(1000, 6);
    const patch = await send(door.url, 'PATCH', post.headers.location!, { body: small, headers: { 'content-type': 'application/octet-stream' } });
    expect(patch.status).toBe(202);
    expect(patch.headers['x-served-by']).toBeUndefined();
    expect(invocations.map((i) => i.bodyBytes)).toEqual([0, 1000]);
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const put = await send(door.url, 'PUT', `${patch.headers.location!}&digest=${sha256(big)}`, { body: big });
    expect(put.headers['x-served-by']).toBe('ingest');
    expect(ingest!.requests.map((r) => [r.method, r.bytes])).toEqual([['PUT', big.byteLength]]);
    expect(invocations).toHaveLength(2);
  });

  it('answers 502 UNAVAILABLE when the ingest origin is down', async () => {
    await start(true);
    await new Promise<void>((resolve) => ingest!.server.close(() => resolve()));
    ingest = undefined;
    const r = await send(door.url, 'PATCH', '/v2/fd/x/blobs/uploads/abc', { body: Buffer.alloc(100_000), chunked: 10_000 });
    expect(r.status).toBe(502);
    expect(code(r)).toBe('UNAVAILABLE');
    expect(invocations).toEqual([]);
  });
});

describe('front door, start:aws extras', () => {
  it('GET /_local/stats reports body bytes and requests per origin, only when asked to', async () => {
    await start(true, true);
    const post = await send(door.url, 'POST', '/v2/fd/stats/blobs/uploads/');
    await send(door.url, 'PATCH', post.headers.location!, { body: Buffer.alloc(3000, 1), chunked: 1000 });
    await send(door.url, 'PATCH', post.headers.location!, { body: Buffer.alloc(10, 1) });
    const r = await send(door.url, 'GET', '/_local/stats');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const stats = JSON.parse(r.body.toString()) as { bytes: Record<string, number>; requests: Record<string, number> };
    expect(stats.bytes).toEqual({ api: 10, ingest: 3000, s3: 0 });
    expect(stats.requests).toMatchObject({ api: 2, ingest: 1 });
    await door.close();
    await new Promise<void>((resolve) => ingest!.server.close(() => resolve()));
    await start(false);
    // Without localStats the path is the API's, like any other unknown path.
    expect((await send(door.url, 'GET', '/_local/stats')).status).toBe(404);
  });

  it('answers a client that half-closes right after a bodiless request, and tells ingest the body is empty', async () => {
    await start(true);
    const post = await send(door.url, 'POST', '/v2/fd/half/blobs/uploads/');
    const api = await rawHalfClose(door.url, 'GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(api).toMatch(/^HTTP\/1\.1 200 /);
    // No Content-Length and no Transfer-Encoding: routed to ingest (the length is unknown), which is
    // told Content-Length: 0 rather than receiving a chunked request.
    const patched = await rawHalfClose(door.url, `PATCH ${post.headers.location!} HTTP/1.1\r\nHost: x\r\nContent-Range: 0-9\r\n\r\n`);
    expect(patched).toMatch(/^HTTP\/1\.1 202 /);
    expect(ingest!.requests).toHaveLength(1);
    expect(ingest!.requests[0]!.headers['content-length']).toBe('0');
    expect(ingest!.requests[0]!.headers['transfer-encoding']).toBeUndefined();
  });
});
