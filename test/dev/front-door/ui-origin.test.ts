// start:aws's web interface origin (dev/front-door/ui-origin.ts) on s3rver: the deployment's copy
// with each kind's metadata, the OAC origin's reads (a missing key S3's 403), the behaviours'
// paths, the headers policy, and what it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../../functions/adapters/s3/s3-client.ts';
import { UI_CACHE_CONTROL, UI_SECURITY_HEADERS } from '../../../functions/web/headers.ts';
import { deployedUiOrigin, deployUi, isUiPath, methodNotAllowed, uiBucketOrigin, withUiHeaders } from '../../../dev/front-door/ui-origin.ts';
import { startLocalS3, type LocalS3 } from '../../support/s3-local.ts';

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3();
});
afterAll(async () => s3?.stop());

const file = (path: string, body: string, immutable = false) => ({ path, body: Buffer.from(body), contentType: 'ignored', immutable });

describe('the web interface origin of start:aws', () => {
  it('copies each file with its kind\'s Content-Type and Cache-Control, and reads it back as CloudFront\'s origin does (GET, HEAD)', async () => {
    const client = s3.client();
    await deployUi(client, 'ui-a', [file('/', '<!doctype html>'), file('/ui/main-ABCDEFGH.js', 'x()', true), file('/ui/icon.svg', '<svg/>')]);
    const origin = uiBucketOrigin(client, 'ui-a', 'ui');
    expect(origin.id).toBe('ui');
    const page = await origin.get('/index.html', 'GET');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('<!doctype html>');
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': UI_CACHE_CONTROL.revalidate, 'content-length': '15' });
    expect(page.headers.etag).toBeDefined();
    const js = await origin.get('/ui/main-ABCDEFGH.js', 'HEAD');
    expect(js.status).toBe(200);
    expect(js.body.byteLength).toBe(0);
    expect(js.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': UI_CACHE_CONTROL.immutable, 'content-length': '3' });
    expect((await origin.get('/ui/icon.svg', 'GET')).headers['content-type']).toBe('image/svg+xml');
  });

  it('a missing file is S3\'s 403 AccessDenied (the origin may not list), with no body for HEAD', async () => {
    const origin = uiBucketOrigin(s3.client(), 'ui-a', 'ui');
    const missing = await origin.get('/ui/nope.js', 'GET');
    expect(missing.status).toBe(403);
    expect(missing.body.toString()).toContain('<Code>AccessDenied</Code>');
    expect((await origin.get('/ui/nope.js', 'HEAD')).body.byteLength).toBe(0);
  });

  it('refuses to copy a file of no known kind; an S3 it cannot reach is an error, not a 403', async () => {
    await expect(deployUi(s3.client(), 'ui-b', [file('/ui/logo.png', 'png')])).rejects.toThrow(/ui\/logo\.png: no kind of file/);
    await expect(deployedUiOrigin(s3.client(), 'ui-c', 'ui', async () => undefined)).rejects.toThrow(/could not be built, and dist\/web\/ is not there/);
    const built = await deployedUiOrigin(s3.client(), 'ui-d', 'ui', async () => [file('/', 'page')]);
    expect((await built.get('/index.html', 'GET')).body.toString()).toBe('page');
    const nowhere = makeS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    await expect(uiBucketOrigin(nowhere, 'ui-a', 'ui').get('/index.html', 'GET')).rejects.toThrow();
    nowhere.destroy();
  });

  it('the behaviours\' paths, the headers policy over the origin\'s own, and CloudFront\'s refusal of other methods', () => {
    for (const path of ['/ui/main-ABCDEFGH.js', '/ui/icon.svg', '/index.html']) expect(isUiPath(path), path).toBe(true);
    for (const path of ['/', '/ui', '/v2/ui/x', '/index.htm', '/api/v1/projects']) expect(isUiPath(path), path).toBe(false);
    const answer = withUiHeaders({ status: 200, headers: { 'content-type': 'text/plain', 'x-content-type-options': 'whatever' }, body: Buffer.alloc(0) });
    expect(answer.headers).toEqual({ 'content-type': 'text/plain', ...UI_SECURITY_HEADERS });
    const refused = methodNotAllowed();
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toContain('not configured to allow the HTTP request method');
  });
});
