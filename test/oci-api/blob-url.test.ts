// The signed blob URL a blob GET redirects to (/_blobs/<digest>?token=<payload>.<exp>.<mac>): byte
// ranges (RFC 9110 section 14), the token's lifetime and binding to one digest, and HEAD parity with
// GET. Runs its own registry with a known REGISTRY_SECRET so that it can mint expired tokens.
// Local server only: under start:aws a blob GET redirects to an S3 presigned GET instead (its Range
// behaviour is tested in blob-url-s3.test.ts; the S3 signature is S3's to check, and s3rver checks none).
import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveKey, TokenSigner } from '../../functions/core/tokens.ts';
import { onlyOnBackend, startRegistry, type RunningRegistry } from '../support/registry.ts';
import { API_VERSION, Client, bytes, expectErrorBody, expectStatus, uniqueRepo, type Reply } from './client.ts';

const SECRET = randomBytes(24).toString('hex');
const SIZE = 1000;
/** The signed URL is meant to live 15 minutes. */
const TTL_SECONDS = 15 * 60;

let registry: RunningRegistry | undefined;
let c: Client;
let repo: string;
let data: Buffer;
let digest: string;
let otherDigest: string;

beforeAll(async () => {
  registry = await startRegistry({ env: { REGISTRY_SECRET: SECRET } });
  c = new Client(registry.url);
  repo = uniqueRepo('blob-url');
  data = bytes(SIZE);
  digest = await c.uploadBlob(repo, data);
  otherDigest = await c.uploadBlob(repo, bytes(SIZE));
});

afterAll(async () => {
  await registry?.stop();
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const blobPath = (d: string, token: string): string => `/_blobs/${d}?token=${token}`;

/** GET /v2/<repo>/blobs/<d>: asserts the 307 and returns the signed path + query it points at. */
async function signedUrl(d = digest): Promise<string> {
  const r = await c.get(`/v2/${repo}/blobs/${d}`);
  expectStatus(r, 307);
  assert.equal(r.headers.get('docker-content-digest'), d, r.where);
  const loc = r.headers.get('location');
  assert.ok(loc, `no Location: ${r.where}`);
  const u = new URL(loc, `${c.base}/`);
  assert.equal(u.origin, new URL(c.base).origin, r.where);
  assert.equal(u.pathname, `/_blobs/${d}`, r.where);
  return `${u.pathname}${u.search}`;
}

/** The token of a signed URL, split into its four parts. */
function tokenOf(url: string): { token: string; kid: string; payload: string; exp: number; mac: string; p64: string } {
  const token = new URL(url, `${c.base}/`).searchParams.get('token');
  assert.ok(token, `no token in ${url}`);
  const parts = token.split('.');
  assert.equal(parts.length, 4, `token is not <kid>.<payload>.<exp>.<mac>: ${token}`);
  const [kid, p64, exp, mac] = parts as [string, string, string, string];
  assert.match(exp, /^\d+$/, `exp is not a number of seconds: ${token}`);
  return { token, kid, p64, payload: Buffer.from(p64, 'base64url').toString(), exp: Number(exp), mac };
}

/** The local server's blob-URL key: derived from REGISTRY_SECRET for this one purpose. */
function blobUrlSigner(): TokenSigner {
  return new TokenSigner([{ id: 'b0', secret: deriveKey(SECRET, 'blob-url') }]);
}

/** Response headers without the per-connection ones. */
function headersOf(r: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  r.headers.forEach((value, key) => {
    if (key !== 'date' && key !== 'connection' && key !== 'keep-alive') out[key] = value;
  });
  return out;
}

/** The headers of a 200/206 from the signed URL. */
function blobHeaders(length: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'docker-distribution-api-version': API_VERSION,
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${digest}"`,
    'docker-content-digest': digest,
    'cache-control': 'private, max-age=31536000, immutable',
    'content-length': String(length),
    ...extra,
  };
}

/** The headers of an OCI JSON error from the signed URL, whose body is `body`. */
function errorHeaders(body: Buffer, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'content-length': String(body.length), 'docker-distribution-api-version': API_VERSION, ...extra };
}

/**
 * GET then HEAD `url`: both must answer `status` with exactly the headers `expected(GET body)`, and
 * the HEAD without a body. Returns the GET.
 */
async function getAndHead(url: string, headers: Record<string, string>, status: number, expected: (body: Buffer) => Record<string, string>): Promise<Reply> {
  const g = await c.get(url, headers);
  assert.equal(g.status, status, g.where);
  const want = expected(g.body);
  assert.deepEqual(headersOf(g), want, `GET headers: ${g.where}`);
  const h = await c.head(url, headers);
  assert.equal(h.status, status, h.where);
  assert.deepEqual(headersOf(h), want, `HEAD headers differ from GET: ${h.where}`);
  assert.equal(h.body.length, 0, `HEAD with a body: ${h.where}`);
  return g;
}

async function expectWholeBlob(url: string, headers: Record<string, string> = {}): Promise<void> {
  const g = await getAndHead(url, headers, 200, () => blobHeaders(SIZE));
  assert.ok(g.body.equals(data), `bytes differ: ${g.where}`);
}

async function expectDenied(url: string): Promise<void> {
  const g = await getAndHead(url, {}, 403, (body) => errorHeaders(body));
  expectErrorBody(g, 'DENIED');
}

describe('signed blob URL: Range (GET and HEAD)', () => {
  onlyOnBackend('local', "the registry's own /_blobs/ signed URL exists only in npm start (start:aws redirects to S3 presigned GETs)");
  it('no Range -> 200, Accept-Ranges: bytes, the whole blob', async () => {
    await expectWholeBlob(await signedUrl());
  });

  // [Range, first byte, last byte] of a 1000-byte blob, worked out by hand from RFC 9110 14.1.2.
  const satisfiable: [string, number, number][] = [
    ['bytes=0-99', 0, 99],
    ['bytes=900-', 900, 999],
    ['bytes=-100', 900, 999],
    ['bytes=-1', 999, 999],
    ['bytes=-5000', 0, 999],
    ['bytes=999-999', 999, 999],
    ['bytes=500-5000', 500, 999],
  ];
  for (const [range, first, last] of satisfiable) {
    it(`${range} -> 206, Content-Range: bytes ${first}-${last}/${SIZE}, exactly those bytes`, async () => {
      const length = last - first + 1;
      const g = await getAndHead(await signedUrl(), { range }, 206, () => blobHeaders(length, { 'content-range': `bytes ${first}-${last}/${SIZE}` }));
      assert.equal(g.body.length, length, g.where);
      assert.ok(g.body.equals(data.subarray(first, last + 1)), `bytes differ from ${first}-${last}: ${g.where}`);
    });
  }

  for (const range of ['bytes=1000-', 'bytes=1000-2000', 'bytes=-0']) {
    it(`${range} -> 416, Content-Range: bytes */${SIZE}`, async () => {
      const g = await getAndHead(await signedUrl(), { range }, 416, (body) => errorHeaders(body, { 'content-range': `bytes */${SIZE}` }));
      expectErrorBody(g, 'RANGE_INVALID');
    });
  }

  // RFC 9110 14.2: a server MAY ignore Range; it MUST ignore an unknown range unit; it MAY ignore an
  // invalid ranges-specifier. This server ignores all of these and serves the whole blob.
  for (const range of ['bytes=abc', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', 'bytes=']) {
    it(`unparsable or multi-range ${JSON.stringify(range)} -> ignored: 200 with the whole blob`, async () => {
      await expectWholeBlob(await signedUrl(), { range });
    });
  }

  it('If-Range: the blob\'s own ETag keeps the Range; any other validator (or a date) sends the whole blob', async () => {
    const url = await signedUrl();
    const g = await getAndHead(url, { range: 'bytes=0-1', 'if-range': `"${digest}"` }, 206, () => blobHeaders(2, { 'content-range': `bytes 0-1/${SIZE}` }));
    assert.ok(g.body.equals(data.subarray(0, 2)), g.where);
    for (const ifRange of [`"${otherDigest}"`, '"sha256:nope"', 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      await expectWholeBlob(url, { range: 'bytes=0-1', 'if-range': ifRange });
    }
  });

  it('the empty blob: a suffix range is answered with the whole (empty) body, any other range is 416', async () => {
    const empty = await c.uploadBlob(repo, new Uint8Array());
    const url = await signedUrl(empty);
    for (const range of ['bytes=-5', 'bytes=-1']) {
      const r = await c.get(url, { range });
      assert.equal(r.status, 200, r.where);
      assert.equal(r.headers.get('content-length'), '0', r.where);
      assert.equal(r.body.length, 0, r.where);
    }
    const r = await c.get(url, { range: 'bytes=0-0' });
    assert.equal(r.status, 416, r.where);
    assert.equal(r.headers.get('content-range'), 'bytes */0', r.where);
  });
});

describe('signed blob URL: token lifetime and binding', () => {
  onlyOnBackend('local', "the registry's own /_blobs/ signed URL exists only in npm start (start:aws redirects to S3 presigned GETs)");
  it('the token is blob|<digest>, signed with the server secret, and expires in 15 minutes', async () => {
    const t0 = nowSeconds();
    const url = await signedUrl();
    const t1 = nowSeconds();
    const t = tokenOf(url);
    assert.equal(t.payload, `blob|${digest}`);
    assert.ok(t.exp >= t0 + TTL_SECONDS - 1 && t.exp <= t1 + TTL_SECONDS + 1, `exp ${t.exp} is not about now+${TTL_SECONDS} (now=${t0}..${t1})`);
    assert.equal(blobUrlSigner().sign(t.payload, t.exp), t.token, 'the token is not signed with the blob-URL key derived from REGISTRY_SECRET');
  });

  it("a token for another digest -> 403 DENIED, on either blob's path", async () => {
    const mine = tokenOf(await signedUrl(digest)).token;
    const theirs = tokenOf(await signedUrl(otherDigest)).token;
    await expectDenied(blobPath(digest, theirs));
    await expectDenied(blobPath(otherDigest, mine));
    const forged = blobUrlSigner().sign(`blob|${otherDigest}`, nowSeconds() + 600);
    await expectDenied(blobPath(digest, forged));
    await expectWholeBlob(blobPath(digest, mine));
  });

  it('a tampered exp -> 403 DENIED; the untouched URL still works', async () => {
    const url = await signedUrl();
    const t = tokenOf(url);
    for (const exp of [t.exp + 1, t.exp - 1, t.exp + 10 * 365 * 86400]) {
      await expectDenied(blobPath(digest, `${t.kid}.${t.p64}.${exp}.${t.mac}`));
    }
    await expectWholeBlob(url);
  });

  it('an expired but authentic token -> 403 DENIED; an unexpired one minted the same way -> 200', async () => {
    const signer = blobUrlSigner();
    await expectDenied(blobPath(digest, signer.sign(`blob|${digest}`, nowSeconds() - 1)));
    await expectDenied(blobPath(digest, signer.sign(`blob|${digest}`, nowSeconds() - 3600)));
    await expectWholeBlob(blobPath(digest, signer.sign(`blob|${digest}`, nowSeconds() + 60)));
  });

  it('a missing or empty token -> 403 DENIED', async () => {
    await expectDenied(`/_blobs/${digest}`);
    await expectDenied(blobPath(digest, ''));
  });
});
