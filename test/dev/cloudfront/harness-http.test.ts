// The harness between real HTTP and the functions: a small CloudFront stand-in (viewer request ->
// origin -> viewer response, the response function skipped on origin errors >= 400 as CloudFront does)
// with an S3 stand-in that checks x-amz-checksum-sha256 against the bytes it receives, as real S3
// does on a single PUT. Bytes PUT by a client go edge -> "S3" and come back as the 201 clients need;
// wrong bytes get S3's XML 400 BadDigest (the documented failure mode).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHeaders, requestEvent, requestTarget, responseEvent, writeResponse, type CfResponse } from '../../../dev/cloudfront/harness.ts';
import { CONFIG, edgeSetup, session } from '../../edge/fixtures.ts';

const edge = edgeSetup();
const objects = new Map<string, Buffer>();
const seen: { origin: string; target: string; headers: Record<string, string | string[]> }[] = [];
let server: Server;
let base: string;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** S3's PutObject with a full-object SHA-256 checksum. */
function s3Put(key: string, headers: Record<string, string | string[]>, bytes: Buffer): { status: number; headers: Record<string, string>; body: string } {
  const expected = headers['x-amz-checksum-sha256'];
  const actual = createHash('sha256').update(bytes).digest('base64');
  if (expected !== actual) {
    return { status: 400, headers: { 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>' };
  }
  objects.set(key, bytes);
  return { status: 200, headers: { etag: '"e"', 'x-amz-checksum-sha256': actual, 'x-amz-request-id': 'R1', server: 'AmazonS3', 'content-length': '0' }, body: '' };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const event = requestEvent({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      const r = await edge.request.run(event);
      if (r.kind === 'response') {
        req.resume();
        return writeResponse(res, r.response);
      }
      const origin = r.origin.kind === 'id' ? r.origin.id : 'default';
      const headers = nodeHeaders(r.request.headers, r.request.cookies);
      seen.push({ origin, target: requestTarget(r.request), headers });
      const bytes = await body(req);
      const answer = origin === CONFIG.s3Origin ? s3Put(r.request.uri.slice(1), headers, bytes) : { status: 202, headers: { 'content-length': '0' }, body: '' };
      if (answer.status >= 400) {
        res.writeHead(answer.status, answer.headers);
        return res.end(answer.body);
      }
      const v = await edge.response.run(responseEvent(r.request, answer.status, answer.headers));
      writeResponse(res, (v as { response: CfResponse }).response, Buffer.from(answer.body));
    })().catch((e: unknown) => {
      res.writeHead(502);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the harness over HTTP', () => {
  it('a monolithic PUT lands in the bucket under blobs/r/<repo>/sha256/<hex> and the client gets 201 with Location and Docker-Content-Digest', async () => {
    const bytes = randomBytes(256 * 1024);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const s = session(edge.signer, 'team/app');
    const res = await fetch(`${base}${s.location}&digest=${encodeURIComponent(digest)}&ns=docker.io`, { method: 'PUT', body: bytes, headers: { authorization: 'Bearer t' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v2/team/app/blobs/${digest}`);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('x-amz-request-id')).toBeNull();
    const key = `blobs/r/team/app/sha256/${digest.slice(7)}`;
    expect(objects.get(key)?.equals(bytes)).toBe(true);
    const sent = seen.at(-1)!;
    expect(sent.target).toBe(`/${key}`);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['content-length']).toBe(String(bytes.length));
  });

  it('bytes that do not match the digest are refused by S3: the client sees S3 XML 400 BadDigest and nothing is stored', async () => {
    const bytes = randomBytes(1000);
    const claimed = `sha256:${createHash('sha256').update('something else').digest('hex')}`;
    const s = session(edge.signer, 'team/app');
    const res = await fetch(`${base}${s.location}&digest=${claimed}`, { method: 'PUT', body: bytes });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>BadDigest</Code>');
    expect(objects.has(`blobs/r/team/app/sha256/${claimed.slice(7)}`)).toBe(false);
  });

  it('an edge refusal reaches the client as an OCI JSON error', async () => {
    const s = session(edge.signer, 'team/app');
    const res = await fetch(`${base}/v2/team/other/blobs/uploads/${s.id}?_state=${s.token}&digest=sha256:${'a'.repeat(64)}`, { method: 'PUT', body: randomBytes(10) });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('other upload requests keep their path and query on the way to the API', async () => {
    const s = session(edge.signer, 'team/app');
    const res = await fetch(`${base}${s.location}&ns=docker.io`, { method: 'PATCH', body: randomBytes(100), headers: { 'content-range': '0-99' } });
    expect(res.status).toBe(202);
    expect(seen.at(-1)).toMatchObject({ origin: CONFIG.apiOrigin, target: `${s.location}&ns=docker.io` });
  });
});
