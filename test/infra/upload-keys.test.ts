// The upload-keys publisher (functions/apps/upload-keys-lambda): SigV4A against the aws-c-auth test suite, the
// KeyValueStore calls against a local HTTP stand-in that keeps ETags as the service does, and the
// custom resource's answer to CloudFormation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createECDH, createHash, createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deriveSigningScalar, signingKey, signV4a } from '../../functions/apps/upload-keys-lambda/sigv4a.ts';
import { KvsClient, KvsError, type Fetch } from '../../functions/apps/upload-keys-lambda/kvs.ts';
import { publishUploadKeys, uploadKeyEntries } from '../../functions/apps/upload-keys-lambda/publish.ts';
import { createHandler, regionOfArn } from '../../functions/apps/upload-keys-lambda/index.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { KeyValueStore, loadEdgeFunction, requestEvent, uploadKeysStore } from '../../dev/cloudfront/harness.ts';

// AWS's documented example credentials (they grant nothing), as in the aws-c-auth SigV4A suite.
const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TOKEN = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267';

describe('SigV4A', () => {
  it('derives the key pair aws-c-auth derives (tests/key_derivation_tests.c: "in synchronicity with Golang and IAM")', () => {
    const pub = (accessKeyId: string, secretAccessKey: string) => {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(deriveSigningScalar(accessKeyId, secretAccessKey));
      return ecdh.getPublicKey('hex');
    };
    expect(pub('AKISORANDOMAASORANDOM', 'q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom')).toBe(
      '04' + '15d242ceebf8d8169fd6a8b5a746c41140414c3b07579038da06af89190fffcb' + '0515242cedd82e94799482e4c0514b505afccf2c0c98d6a553bf539f424c5ec0');
    expect(pub('AKISORANDOMAASORANDOM', 'q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandoM')).not.toMatch(/^0415d242ce/);
    // The signing key is the derived one.
    expect(createPublicKey(signingKey({ accessKeyId: 'AKISORANDOMAASORANDOM', secretAccessKey: 'q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom' })).export({ format: 'jwk' }).x)
      .toBe(Buffer.from('15d242ceebf8d8169fd6a8b5a746c41140414c3b07579038da06af89190fffcb', 'hex').toString('base64url'));
  });

  it('builds the canonical request and string to sign the suite signed: its published signature verifies', () => {
    const signed = signV4a(
      { method: 'GET', host: 'example.amazonaws.com', path: '/' },
      { credentials: { ...EXAMPLE, sessionToken: TOKEN }, service: 'service', regionSet: 'us-east-1', date: new Date('2015-08-30T12:36:00Z') },
    );
    expect(signed.canonicalRequest).toBe([
      'GET', '/', '',
      'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', 'x-amz-region-set:us-east-1', `x-amz-security-token:${TOKEN}`, '',
      'host;x-amz-date;x-amz-region-set;x-amz-security-token',
      createHash('sha256').update('').digest('hex'),
    ].join('\n'));
    expect(signed.headers.authorization).toMatch(/^AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE\/20150830\/service\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set;x-amz-security-token, Signature=[0-9a-f]+$/);
    // The suite signs with a fixed test key (v4a/get-vanilla-with-session-token/key.pem), whose public half is:
    const suiteKey = createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256',
      x: Buffer.from('1468963b5323439c3ad5ef5a4065b56c24f5ce94dd810c54b955bebdb989e8d2', 'hex').toString('base64url'),
      y: Buffer.from('2f725498e2b9090e6530c8d35d2a0ae40b72eae1e4727594606eed7208a70095', 'hex').toString('base64url') } });
    // v4a/get-vanilla-with-session-token/header-signed-request.txt
    const published = Buffer.from('3046022100c73cca08380c72b8adb0ead5f9b51ad34ef1518bce21d7a7b43cd1a5c8cd38bc022100b9891d3e8828d1aafd32b946a42a235a6c7a6d762791595d1fb4513a50377257', 'hex');
    expect(verify('sha256', Buffer.from(signed.stringToSign), { key: suiteKey, dsaEncoding: 'der' }, published)).toBe(true);
    expect(verify('sha256', Buffer.from(`${signed.stringToSign}x`), { key: suiteKey, dsaEncoding: 'der' }, published)).toBe(false);
    // Our own signature verifies under the key derived from the credentials.
    const ours = Buffer.from(signed.headers.authorization!.split('Signature=')[1]!, 'hex');
    expect(verify('sha256', Buffer.from(signed.stringToSign), { key: createPublicKey(signingKey(EXAMPLE)), dsaEncoding: 'der' }, ours)).toBe(true);
  });

  it('signs a non-S3 path encoded twice, and query parameters sorted and encoded', () => {
    const arn = 'arn:aws:cloudfront::111122223333:key-value-store/abc';
    const signed = signV4a(
      { method: 'GET', host: 'h', path: `/key-value-stores/${encodeURIComponent(arn)}/keys`, query: { NextToken: 'a b', MaxResults: '50' } },
      { credentials: EXAMPLE, service: 'cloudfront-keyvaluestore', regionSet: '*', date: new Date('2026-01-02T03:04:05Z') },
    );
    const [, path, query] = signed.canonicalRequest.split('\n');
    expect(path).toBe('/key-value-stores/arn%253Aaws%253Acloudfront%253A%253A111122223333%253Akey-value-store%252Fabc/keys');
    expect(query).toBe('MaxResults=50&NextToken=a%20b');
    expect(signed.headers['x-amz-region-set']).toBe('*');
    expect(signed.stringToSign.split('\n').slice(0, 3)).toEqual(['AWS4-ECDSA-P256-SHA256', '20260102T030405Z', '20260102/cloudfront-keyvaluestore/aws4_request']);
  });
});

const SECRET_JSON = JSON.stringify({ kid: 'k2', key: 'n'.repeat(64), previous: [{ kid: 'k1', key: 'o'.repeat(64) }] });

describe('upload key entries', () => {
  it('one upload-key-<kid> per key, the secret as base64: exactly what the viewer-request function verifies with', async () => {
    const entries = uploadKeyEntries(SECRET_JSON);
    expect(entries).toEqual([
      { Key: 'upload-key-k2', Value: Buffer.from('n'.repeat(64)).toString('base64') },
      { Key: 'upload-key-k1', Value: Buffer.from('o'.repeat(64)).toString('base64') },
    ]);
    // The same entries the harness publishes for the same keys (uploadKeysStore, start:aws).
    const harness = uploadKeysStore([{ id: 'k2', secret: 'n'.repeat(64) }, { id: 'k1', secret: 'o'.repeat(64) }]);
    const handle = harness.handle() as { get(key: string): Promise<string> };
    for (const e of entries) expect(await handle.get(e.Key)).toBe(e.Value);
    // Tokens the API signs with either key pass the deployed viewer-request function reading only
    // these entries: the fast path to S3. A key not published is not judged at the edge.
    const kvs = new KeyValueStore();
    for (const e of entries) kvs.set(e.Key, e.Value);
    const fn = loadEdgeFunction('viewer-request', { config: { ingest: true, edgeUploads: true, s3Origin: 'blobs-us-east-1', ingestOrigin: 'ingest', apiOrigin: 'api' }, kvs });
    const hex = createHash('sha256').update('hello world').digest('hex');
    const putWith = (secret: string, kid: string) => {
      const id = '8e0a6c3e-6f6f-4f43-9d1e-0b2a5f1c2d3e';
      const token = new TokenSigner([{ id: kid, secret }]).sign(`team/app|${id}|ci`, Math.floor(Date.now() / 1000) + 3600);
      return requestEvent({ method: 'PUT', url: `/v2/team/app/blobs/uploads/${id}?_state=${token}&digest=sha256:${hex}`, headers: { host: 'r.example.com', 'content-length': '11' } });
    };
    for (const [secret, kid] of [['n'.repeat(64), 'k2'], ['o'.repeat(64), 'k1']] as const) {
      const r = await fn.run(putWith(secret, kid));
      expect(r.origin).toEqual({ kind: 'id', id: 'blobs-us-east-1' });
    }
    expect((await fn.run(putWith('p'.repeat(64), 'k3'))).origin).toEqual({ kind: 'id', id: 'api' });
    // A wrong secret under a published kid is refused at the edge.
    const forged = await fn.run(putWith('q'.repeat(64), 'k2'));
    expect(forged.kind).toBe('response');
  });

  it('refuses a secret the edge could not use, naming the problem without the key', () => {
    expect(() => uploadKeyEntries('{"kid":"k1"}')).toThrow(/needs string "kid" and "key"/);
    expect(() => uploadKeyEntries(JSON.stringify({ kid: 'k.1', key: 'x'.repeat(64) }))).toThrow(/kid "k\.1"/);
    expect(() => uploadKeyEntries(JSON.stringify({ kid: 'k1', key: 'x'.repeat(64), previous: [{ kid: 'k1', key: 'y'.repeat(64) }] }))).toThrow(/appears twice/);
    // The refusal is asserted outside any catch: a call that did not throw fails here.
    const refusal = (() => {
      try {
        uploadKeyEntries(JSON.stringify({ kid: 'k.1', key: 'secret-material-'.repeat(4) }));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(refusal).toBeInstanceOf(Error);
    expect(String(refusal)).toMatch(/kid "k\.1"/);
    expect(String(refusal)).not.toContain('secret-material');
  });
});

/** A local stand-in for the KeyValueStore API: ETags, If-Match, READY status, paging; checks the SigV4A headers' shape. */
class FakeKvs {
  items = new Map<string, string>();
  version = 1;
  status = 'READY';
  conflictOnce = false;
  requests: Array<{ method: string; path: string; auth: string; regionSet: string }> = [];
  server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.serve(req).then(({ status, body, etag }) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(etag ? { etag } : {}), ...(status >= 300 ? { 'x-amzn-errortype': String((body as { code: string }).code) } : {}) });
      res.end(JSON.stringify(body));
    }));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async serve(req: IncomingMessage): Promise<{ status: number; body: unknown; etag?: string }> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url!, 'http://x');
    this.requests.push({ method: req.method!, path: url.pathname, auth: String(req.headers.authorization), regionSet: String(req.headers['x-amz-region-set']) });
    if (!/^AWS4-ECDSA-P256-SHA256 Credential=\S+\/\d{8}\/cloudfront-keyvaluestore\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]+$/.test(String(req.headers.authorization))) {
      return { status: 403, body: { code: 'AccessDeniedException', Message: 'bad signature' } };
    }
    const m = /^\/key-value-stores\/([^/]+)(\/keys)?$/.exec(url.pathname);
    if (!m || decodeURIComponent(m[1]!) !== ARN) return { status: 404, body: { code: 'ResourceNotFoundException', Message: url.pathname } };
    const etag = `E${this.version}`;
    if (!m[2] && req.method === 'GET') return { status: 200, body: { KvsARN: ARN, Status: this.status, ItemCount: this.items.size }, etag };
    if (m[2] && req.method === 'GET') {
      const all = [...this.items.entries()].sort().map(([Key, Value]) => ({ Key, Value }));
      const start = Number(url.searchParams.get('NextToken') ?? 0);
      const max = Number(url.searchParams.get('MaxResults'));
      const page = all.slice(start, start + max);
      return { status: 200, body: { Items: page, ...(start + max < all.length ? { NextToken: String(start + max) } : {}) } };
    }
    if (m[2] && req.method === 'POST') {
      if (this.conflictOnce) {
        this.conflictOnce = false;
        this.version++;
      }
      if (req.headers['if-match'] !== `E${this.version}`) return { status: 409, body: { code: 'ConflictException', Message: 'etag mismatch' } };
      const body = JSON.parse(text) as { Puts?: Array<{ Key: string; Value: string }>; Deletes?: Array<{ Key: string }> };
      for (const p of body.Puts ?? []) this.items.set(p.Key, p.Value);
      for (const d of body.Deletes ?? []) this.items.delete(d.Key);
      this.version++;
      return { status: 200, body: { ItemCount: this.items.size }, etag: `E${this.version}` };
    }
    return { status: 405, body: { code: 'ValidationException', Message: 'method' } };
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const ARN = 'arn:aws:cloudfront::111122223333:key-value-store/0f4e5a1c-1111-2222-3333-444455556666';
const fake = new FakeKvs();
const client = () => new KvsClient({ credentials: () => ({ ...EXAMPLE, sessionToken: TOKEN }), endpoint: () => fake.url });
const noSleep = { sleep: async () => {} };

beforeAll(() => fake.start());
afterAll(() => fake.stop());
beforeEach(() => {
  fake.items = new Map([['other', 'kept'], ['upload-key-k0', 'c3RhbGU=']]);
  fake.requests = [];
  fake.status = 'READY';
});

describe('publishing into the KeyValueStore', () => {
  it('puts the secret\'s keys, deletes upload keys no longer in it, leaves other entries; one conditional write', async () => {
    const r = await publishUploadKeys(client(), ARN, uploadKeyEntries(SECRET_JSON), noSleep);
    expect(r).toEqual({ put: ['upload-key-k2', 'upload-key-k1'], deleted: ['upload-key-k0'], unchanged: [] });
    expect(Object.fromEntries(fake.items)).toEqual({
      other: 'kept',
      'upload-key-k1': Buffer.from('o'.repeat(64)).toString('base64'),
      'upload-key-k2': Buffer.from('n'.repeat(64)).toString('base64'),
    });
    expect(fake.requests.map((q) => q.method)).toEqual(['GET', 'GET', 'POST']);
    expect(fake.requests.every((q) => q.regionSet === '*')).toBe(true);
    expect(fake.requests[0]!.path).toBe(`/key-value-stores/${encodeURIComponent(ARN)}`);
    // Again: nothing to change, no write.
    fake.requests = [];
    const again = await publishUploadKeys(client(), ARN, uploadKeyEntries(SECRET_JSON), noSleep);
    expect(again).toEqual({ put: [], deleted: [], unchanged: ['upload-key-k2', 'upload-key-k1'] });
    expect(fake.requests.map((q) => q.method)).toEqual(['GET', 'GET']);
  });

  it('reads every page of keys', async () => {
    for (let i = 0; i < 120; i++) fake.items.set(`upload-key-old${i}`, 'eA==');
    const r = await publishUploadKeys(client(), ARN, uploadKeyEntries(SECRET_JSON), noSleep);
    expect(r.deleted).toHaveLength(121);
    expect([...fake.items.keys()].sort()).toEqual(['other', 'upload-key-k1', 'upload-key-k2']);
  });

  it('retries when another writer moved the ETag, and when the store is not ready; gives up after the attempts', async () => {
    fake.conflictOnce = true;
    await publishUploadKeys(client(), ARN, uploadKeyEntries(SECRET_JSON), noSleep);
    expect(fake.requests.map((q) => q.method)).toEqual(['GET', 'GET', 'POST', 'GET', 'GET', 'POST']);
    expect(fake.items.get('upload-key-k2')).toBeDefined();
    fake.status = 'PROVISIONING';
    const err = await publishUploadKeys(client(), ARN, uploadKeyEntries(SECRET_JSON), { attempts: 3, ...noSleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvsError);
    expect(String(err)).toMatch(/PROVISIONING/);
  });

  it('does not retry a refusal (403)', async () => {
    const bad = new KvsClient({ credentials: () => EXAMPLE, endpoint: () => fake.url, fetch: (async (url, init) => fetch(url, { ...init, headers: { ...init.headers, authorization: 'none' } })) as Fetch });
    await expect(publishUploadKeys(bad, ARN, uploadKeyEntries(SECRET_JSON), noSleep)).rejects.toThrow(/AccessDeniedException \(403\)/);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('the custom resource handler', () => {
  let responses: Array<{ path: string; contentType: string | undefined; body: Record<string, unknown> }> = [];
  let cfn: Server;
  let cfnUrl = '';
  beforeAll(async () => {
    cfn = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        responses.push({ path: req.url!, contentType: req.headers['content-type'], body: JSON.parse(text) as Record<string, unknown> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => cfn.listen(0, '127.0.0.1', r));
    cfnUrl = `http://127.0.0.1:${(cfn.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => cfn.close(() => r())));
  beforeEach(() => (responses = []));

  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:oci-registry/staging/signing-keys-AbCdEf';
  const handler = (secret: string, logs: unknown[] = []) => createHandler({
    env: { KVS_ARN: ARN, SECRET_ARN },
    readSecret: async (arn) => {
      expect(arn).toBe(SECRET_ARN);
      return secret;
    },
    kvs: client(),
    fetch: fetch as unknown as Fetch,
    log: (m, d) => logs.push({ m, ...d }),
  });
  const event = (type: 'Create' | 'Update' | 'Delete') => ({
    RequestType: type,
    ResponseURL: `${cfnUrl}/response?X-Amz-Signature=abc`,
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/OciRegistry-staging-Edge/1',
    RequestId: 'req-1',
    LogicalResourceId: 'UploadKeysPublisher',
    ...(type === 'Create' ? {} : { PhysicalResourceId: `${ARN}/upload-keys` }),
    ResourceProperties: { KvsArn: ARN, SecretArn: SECRET_ARN },
  });

  it.each(['Create', 'Update'] as const)('%s: publishes and answers SUCCESS with the key names only', async (type) => {
    const logs: unknown[] = [];
    await handler(SECRET_JSON, logs)(event(type));
    expect(responses).toHaveLength(1);
    const r = responses[0]!;
    expect(r.contentType).toBe('');
    expect(r.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `${ARN}/upload-keys`, RequestId: 'req-1', LogicalResourceId: 'UploadKeysPublisher', Data: { Keys: 'upload-key-k1,upload-key-k2' } });
    expect(fake.items.get('upload-key-k1')).toBe(Buffer.from('o'.repeat(64)).toString('base64'));
    for (const text of [JSON.stringify(r.body), JSON.stringify(logs)]) {
      expect(text).not.toContain('n'.repeat(32));
      expect(text).not.toContain(Buffer.from('n'.repeat(64)).toString('base64'));
    }
  });

  it('Delete: answers SUCCESS and leaves the store alone', async () => {
    await handler(SECRET_JSON)(event('Delete'));
    expect(responses[0]!.body).toMatchObject({ Status: 'SUCCESS' });
    expect(fake.requests).toEqual([]);
  });

  it('a bad secret: FAILED with the reason, which names no key material', async () => {
    await handler(JSON.stringify({ kid: 'k1', key: 'short-secret' }))(event('Update'));
    expect(responses[0]!.body).toMatchObject({ Status: 'FAILED' });
    expect(String(responses[0]!.body.Reason)).toMatch(/at least 32 bytes/);
    expect(JSON.stringify(responses[0]!.body)).not.toContain('short-secret');
  });

  it('invoked directly (after a rotation): syncs from its environment and returns what changed', async () => {
    const r = await handler(SECRET_JSON)({});
    expect(r).toEqual({ put: ['upload-key-k2', 'upload-key-k1'], deleted: ['upload-key-k0'], unchanged: [] });
    expect(responses).toEqual([]);
  });

  it('reads the secret in the region of its ARN', () => {
    expect(regionOfArn(SECRET_ARN)).toBe('eu-west-1');
  });
});
