// The web interface in start:aws as the distribution serves it (infra/constructs/web-ui.ts): its
// files copied into a bucket of their own on the S3 stand-in with each kind's Content-Type and
// Cache-Control (what the deployment does), read back as CloudFront's OAC origin reads them (a
// missing key is S3's 403: the origin may not list), under the behaviours /ui/* and /index.html
// (GET/HEAD only) and, for `/`, wherever the read-routing function sends it; every answer of those
// behaviours and of the API's carries the headers policy (functions/web/headers.ts).
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { loadUi, type UiFile } from '../../functions/web/bundle.ts';
import { matchesPathPattern, UI_ASSET_PATH, UI_PAGE_PATH } from '../../functions/edge/source.ts';
import { UI_SECURITY_HEADERS, uiObjectGroup } from '../../functions/web/headers.ts';
import type { Answer } from './apigw-http.ts';

export interface UiOrigin {
  /** Its origin id on the distribution (what the read-routing function selects for `/`). */
  readonly id: string;
  /** The origin's answer for a request path (`/index.html`, `/ui/<name>`). */
  get(path: string, method: string): Promise<Answer>;
}

/** Whether a path falls in one of the interface's own behaviours. */
export const isUiPath = (path: string): boolean => matchesPathPattern(UI_ASSET_PATH, path) || matchesPathPattern(UI_PAGE_PATH, path);

/** The response headers policy, over whatever the origin sent. */
export function withUiHeaders(answer: Answer): Answer {
  return { ...answer, headers: { ...answer.headers, ...UI_SECURITY_HEADERS } };
}

/** CloudFront's refusal of a method its behaviour does not allow. */
export function methodNotAllowed(): Answer {
  const body = Buffer.from('<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>This distribution is not configured to allow the HTTP request method that was used for this request.</BODY></HTML>\n');
  return { status: 403, headers: { 'content-type': 'text/html', 'content-length': String(body.byteLength), 'x-cache': 'Error from cloudfront' }, body };
}

/** What the deployment does: every file of the build into `bucket`, with its kind's metadata. */
export async function deployUi(s3: S3Client, bucket: string, files: readonly UiFile[]): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const f of files) {
    const key = f.path === '/' ? 'index.html' : f.path.slice(1);
    const group = uiObjectGroup(key);
    if (!group) throw new Error(`${key}: no kind of file of the web interface (functions/web/headers.ts)`);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: f.body, ContentType: group.contentType, CacheControl: group.cacheControl }));
  }
}

/** The bucket as CloudFront's OAC origin reads it (GetObject only). */
export function uiBucketOrigin(s3: S3Client, bucket: string, id: string): UiOrigin {
  return {
    id,
    async get(path, method) {
      const key = path.slice(1);
      try {
        const input = { Bucket: bucket, Key: key };
        const o = method === 'HEAD' ? await s3.send(new HeadObjectCommand(input)) : await s3.send(new GetObjectCommand(input));
        const body = 'Body' in o && o.Body ? Buffer.from(await o.Body.transformToByteArray()) : Buffer.alloc(0);
        const headers: Record<string, string> = { 'content-type': o.ContentType ?? 'binary/octet-stream', 'content-length': String(o.ContentLength ?? body.byteLength) };
        if (o.CacheControl) headers['cache-control'] = o.CacheControl;
        if (o.ETag) headers.etag = o.ETag;
        if (o.LastModified) headers['last-modified'] = o.LastModified.toUTCString();
        return { status: 200, headers, body };
      } catch (e) {
        const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
        if (status !== 404 && status !== 403) throw e;
        // Without s3:ListBucket, S3 answers a missing key 403 AccessDenied.
        const body = Buffer.from(method === 'HEAD' ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
        return { status: 403, headers: { 'content-type': 'application/xml', 'content-length': String(body.byteLength) }, body };
      }
    },
  };
}

/** The interface built (or read from dist/web/), copied into `bucket`, and that bucket as the origin `id`. */
export async function deployedUiOrigin(s3: S3Client, bucket: string, id: string, load: () => Promise<UiFile[] | undefined> = loadUi): Promise<UiOrigin> {
  const files = await load();
  if (!files) throw new Error('the web interface could not be built, and dist/web/ is not there');
  await deployUi(s3, bucket, files);
  return uiBucketOrigin(s3, bucket, id);
}
