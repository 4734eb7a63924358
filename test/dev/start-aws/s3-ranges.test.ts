// The S3 stand-in of start:aws answers Range as S3 does (s3rver alone does not): the last N bytes for
// a suffix range, the whole object for a range S3 ignores, 416 past the end.
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../functions/adapters/s3/s3-client.ts';
import { LOCAL_S3_CREDENTIALS, startS3Local, type S3Local } from '../../../dev/start-aws/s3-local.ts';
import { s3Range } from '../../../dev/start-aws/s3-ranges.ts';

const data = randomBytes(1000);
let s3: S3Local;
let url: string;

beforeAll(async () => {
  s3 = await startS3Local('ranges');
  const client = makeS3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
  await client.send(new PutObjectCommand({ Bucket: 'ranges', Key: 'blobs/sha256/x', Body: data }));
  client.destroy();
  url = `${s3.endpoint}/ranges/blobs/sha256/x`;
});
afterAll(() => s3?.stop());

const get = async (range: string, method = 'GET') => {
  const r = await fetch(url, { method, headers: { range } });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), contentRange: r.headers.get('content-range'), length: r.headers.get('content-length') };
};

describe('Range on the S3 stand-in', () => {
  it('a suffix range is the last N bytes', async () => {
    const r = await get('bytes=-500');
    expect(r.status).toBe(206);
    expect(r.contentRange).toBe('bytes 500-999/1000');
    expect(r.body.equals(data.subarray(500))).toBe(true);
  });

  it('a suffix longer than the object is the whole object, as a 206', async () => {
    const r = await get('bytes=-5000');
    expect(r.status).toBe(206);
    expect(r.contentRange).toBe('bytes 0-999/1000');
    expect(r.body.equals(data)).toBe(true);
  });

  it.each(['bytes=500-0', 'bytes=0-1,5-6', 'bytes=-', 'items=0-1', 'bytes=-0'])('%s is ignored: the whole object, 200', async (range) => {
    const r = await get(range);
    expect(r.status).toBe(200);
    expect(r.body.equals(data)).toBe(true);
  });

  it('an ordinary range and an open one are served as asked; HEAD tells the length', async () => {
    expect((await get('bytes=10-19')).body.equals(data.subarray(10, 20))).toBe(true);
    expect((await get('bytes=990-')).body.equals(data.subarray(990))).toBe(true);
    const head = await get('bytes=-100', 'HEAD');
    expect([head.status, head.contentRange, head.length]).toEqual([206, 'bytes 900-999/1000', '100']);
  });

  it('a start past the end is 416 InvalidRange', async () => {
    const r = await get('bytes=1000-');
    expect(r.status).toBe(416);
    expect(r.body.toString()).toContain('InvalidRange');
  });

  it('s3Range: the rewriting rule alone', () => {
    expect(s3Range('bytes=-1', 10)).toBe('bytes=9-9');
    expect(s3Range('bytes=-1', 0)).toBeUndefined();
    expect(s3Range('bytes=3-3', 10)).toBe('bytes=3-3');
    expect(s3Range('bytes=4-3', 10)).toBeUndefined();
  });
});
