// Range requests as S3 answers them, in front of s3rver (which reads `bytes=-500` as "from byte 0
// to 500" and serves `bytes=500-0` as a 206): a suffix range is the last N bytes, a range S3 cannot
// parse or does not support (an end before its start, several ranges) is ignored and the whole
// object served; a start past the end stays s3rver's 416 InvalidRange, as S3's.
import { stat } from 'node:fs/promises';

interface RangeContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The Range header S3 would act on for an object of `size` bytes: a rewritten one, or undefined to serve it whole. */
export function s3Range(header: string, size: number): string | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return undefined;
    return `bytes=${Math.max(size - n, 0)}-${size - 1}`;
  }
  if (m[2] !== '' && Number(m[2]) < Number(m[1])) return undefined;
  return header;
}

/** A Koa middleware for s3rver: rewrites the Range of an object GET/HEAD as S3 reads it. */
export function s3RangeMiddleware(objectFile: (bucket: string, key: string) => string) {
  return async (ctx: RangeContext, next: () => Promise<unknown>): Promise<void> => {
    const range = ctx.headers.range;
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && typeof range === 'string') {
      const [, bucket = '', ...key] = ctx.path.split('/');
      const size = await stat(objectFile(bucket, decodeURIComponent(key.join('/')))).then((s) => s.size, () => undefined);
      // A missing object: s3rver answers NoSuchKey whatever the range.
      if (size !== undefined) {
        const rewritten = s3Range(range, size);
        if (rewritten === undefined) delete ctx.headers.range;
        else ctx.headers.range = rewritten;
      }
    }
    await next();
  };
}
