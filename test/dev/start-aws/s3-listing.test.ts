// The S3 stand-in's listing (dev/start-aws/s3-listing.ts) answers every page as S3 orders keys
// (UTF-8 byte order; s3rver's own walk does not: it lists `a/b` before `a`), with prefixes,
// delimiters, start-after and page sizes as s3rver reads them, each object with its metadata; and a
// ListObjects walk through the SDK pages over the whole bucket once, in key order (s3rver's own
// listing skips keys there).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../functions/adapters/s3/s3-client.ts';
import { LOCAL_S3_CREDENTIALS, answerPutsWhenWritten } from '../../../dev/start-aws/s3-local.ts';
import { listWithoutStats } from '../../../dev/start-aws/s3-listing.ts';

type Store = { listObjects(bucket: string, o: Record<string, unknown>): Promise<{ objects: { key: string; metadata: Record<string, string> }[]; commonPrefixes: string[]; isTruncated: boolean }> };

const BUCKET = 'listing';
const KEYS = [
  'a', 'a.b', 'a/b', 'a/b/c', 'a/b.c', 'a-b', 'blobs/sha256/00', 'blobs/sha256/0a', 'blobs/sha256/ff', 'blobs/sha512/01',
  'blobs/by-upload/u1/x', 'blobs/by-upload/u2/y', 'manifests/r/1', 'manifests/r/2', 'uploads/s1/part', 'z',
  ...Array.from({ length: 40 }, (_, i) => `many/${String(i).padStart(3, '0')}`),
];

let server: S3rver;
let dir: string;
let endpoint: string;
let store: Store;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-listing-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  answerPutsWhenWritten(server);
  listWithoutStats(server);
  store = (server as unknown as { store: Store }).store;
  endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  const c = makeS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
  for (const Key of KEYS) await c.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key, ContentType: 'text/plain' }));
  c.destroy();
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What the listing should answer: S3's key order; prefix, start-after, delimiter and max-keys as s3rver reads them. */
function model(o: { prefix?: string; startAfter?: string; delimiter?: string; maxKeys?: number }) {
  const { prefix = '', startAfter = '', delimiter = '', maxKeys = Infinity } = o;
  const eligible = [...KEYS].sort(byteOrder).filter((k) => k > startAfter && k.startsWith(prefix));
  const rolledUp = (k: string): string | undefined => {
    const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    return i === -1 ? undefined : k.slice(0, i + 1);
  };
  const plain = eligible.filter((k) => rolledUp(k) === undefined);
  // The page ends before the first key past max-keys; common prefixes are those met before it.
  const end = plain.length > maxKeys ? plain[maxKeys] : undefined;
  const met = eligible.filter((k) => end === undefined || byteOrder(k, end) < 0);
  return {
    keys: plain.slice(0, maxKeys),
    commonPrefixes: [...new Set(met.map(rolledUp).filter((p) => p !== undefined))].sort(),
    isTruncated: end !== undefined,
  };
}

describe("the S3 stand-in's listing", () => {
  const cases: Record<string, unknown>[] = [
    {},
    { maxKeys: 5 },
    { prefix: 'a' },
    { prefix: 'a/' },
    { delimiter: '/' },
    { prefix: 'blobs/', delimiter: '/' },
    { prefix: 'blobs/sha256/', startAfter: 'blobs/sha256/00', maxKeys: 1 },
    { startAfter: 'many/017', maxKeys: 10 },
    { startAfter: 'a/b', delimiter: '/' },
    { prefix: 'many/', startAfter: 'many/039' },
    { prefix: 'nothing/' },
  ];
  it.each(cases)('answers %j in S3 key order', async (options) => {
    const r = await store.listObjects(BUCKET, options);
    expect({ keys: r.objects.map((o) => o.key), commonPrefixes: r.commonPrefixes, isTruncated: r.isTruncated }).toEqual(model(options));
    // Each with its metadata (the body is the key).
    for (const o of r.objects) expect(Number(o.metadata['content-length'])).toBe(Buffer.byteLength(o.key));
  });

  it('a ListObjects walk in pages of 7 returns every key once, in key order', async () => {
    const c = makeS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
    const seen: string[] = [];
    // ListObjects (V1) with a marker: s3rver encrypts V2's continuation tokens with a cipher that
    // needs OpenSSL's legacy provider (bench/gc.ts runs with it); both go through the same listing.
    for (let more = true; more; ) {
      const page = await c.send(new ListObjectsCommand({ Bucket: BUCKET, MaxKeys: 7, ...(seen.length > 0 ? { Marker: seen.at(-1) } : {}) }));
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      more = page.IsTruncated === true;
    }
    c.destroy();
    expect(seen).toEqual([...KEYS].sort());
  });
});
