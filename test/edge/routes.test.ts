// The CloudFront side's own path knowledge held against the route table (functions/core/routes.ts),
// the one place an OCI path pattern is written: the viewer-request function's regular expressions
// (it runs in CloudFront Functions and cannot import the table), the distribution's path patterns,
// and the API-version literal both functions write.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_VERSION_HEADERS } from '../../functions/core/http.ts';
import { matchRoute } from '../../functions/core/routes.ts';
import { edgeFunctionFile, matchesPathPattern, UI_ASSET_PATH, UI_PAGE_PATH, UNAVAILABLE_PAGE_PATH, UPLOAD_PATH } from '../../functions/edge/source.ts';

const D = `sha256:${'a'.repeat(64)}`;
const UUID = '0b6c1f9e-3d2a-4c8b-9f1e-2a3b4c5d6e7f';
/** Ordinary paths of every route, and names that contain the route words themselves. */
const PATHS = [
  '/v2', '/v2/', '/v2/_catalog', '/v2/a/_catalog',
  '/v2/a/tags/list', '/v2/a/b/tags/list', '/v2/tags/list', '/v2/a/tags/list/',
  `/v2/a/manifests/v1`, `/v2/a/manifests/${D}`, '/v2/a/manifests/', '/v2/a/manifests/tags/list',
  `/v2/a/referrers/${D}`, '/v2/a/referrers/x', `/v2/a/referrers/${D}/x`,
  '/v2/a/blobs/uploads', '/v2/a/blobs/uploads/', `/v2/a/blobs/uploads/${UUID}`, `/v2/a/b/c/blobs/uploads/${UUID}`,
  `/v2/a/blobs/uploads/${UUID}/x`, '/v2/a/blobs/uploads/b/blobs/uploads/', `/v2/a/blobs/uploads/b/manifests/v1`,
  `/v2/blobs/uploads/blobs/uploads/${UUID}`, `/v2/a/blobs/uploads/blobs/${D}`,
  `/v2/a/blobs/${D}`, '/v2/a/blobs/', `/v2/blobs/blobs/${D}`, `/v2/a/blobs/${D}/x`,
  '/v2/a/b', '/v1/a/manifests/v1', '/', '/blobs/sha256/aa/aaaa',
];

/** `var NAME = /.../;` of the deployed viewer-request function, as a RegExp. */
function edgeRegExp(name: string): RegExp {
  const source = readFileSync(edgeFunctionFile('viewer-request'), 'utf8');
  const m = new RegExp(`^var ${name} = /(.+)/([a-z]*);$`, 'm').exec(source);
  if (!m) throw new Error(`viewer-request.js has no ${name}`);
  return new RegExp(m[1]!, m[2]);
}

const isSession = (path: string) => matchRoute(path)?.route.keys.includes('session') === true;
const isUploadStart = (path: string) => matchRoute(path)?.route.methods.POST !== undefined;

describe('the edge against the route table', () => {
  it('an upload session path is one to the viewer-request function exactly when the route table says so', () => {
    for (const name of ['UPLOAD_SESSION', 'SESSION']) {
      const re = edgeRegExp(name);
      for (const path of PATHS) expect(re.test(path), `${name} on ${path}`).toBe(isSession(path));
    }
  });

  it('an upload start (POST) path is one to the function exactly when the route table says so', () => {
    const re = edgeRegExp('UPLOAD_START');
    for (const path of PATHS) expect(re.test(path), path).toBe(isUploadStart(path));
  });

  it('every upload path the function acts on falls in the upload behaviour (a POST to `.../uploads` without the slash goes to the API directly)', () => {
    for (const path of PATHS) {
      if (isSession(path) || (isUploadStart(path) && path.endsWith('/'))) expect(matchesPathPattern(UPLOAD_PATH, path), path).toBe(true);
    }
    expect(matchesPathPattern(UPLOAD_PATH, '/v2/a/blobs/uploads')).toBe(false);
  });

  it('the unavailable page (CloudFront\'s 503 answer) is a path no route of the table takes', () => {
    expect(matchRoute(UNAVAILABLE_PAGE_PATH)).toBeUndefined();
    expect(matchesPathPattern(UPLOAD_PATH, UNAVAILABLE_PAGE_PATH)).toBe(false);
  });

  it('the web interface\'s behaviours take no path of the registry\'s (every route is under /v2/), and `/` is in neither', () => {
    for (const path of PATHS) {
      for (const pattern of [UI_ASSET_PATH, UI_PAGE_PATH]) expect(matchesPathPattern(pattern, path) && matchRoute(path) !== undefined, `${pattern} ${path}`).toBe(false);
    }
    for (const path of ['/ui/main-ABCDEFGH.js', '/ui/icon.svg', UI_PAGE_PATH]) expect(matchRoute(path), path).toBeUndefined();
    expect(matchesPathPattern(UI_ASSET_PATH, '/ui/main-ABCDEFGH.js')).toBe(true);
    expect(matchesPathPattern(UI_ASSET_PATH, '/v2/ui/x')).toBe(false);
    expect(matchesPathPattern(UI_ASSET_PATH, '/')).toBe(false);
    expect(matchesPathPattern(UI_PAGE_PATH, '/')).toBe(false);
  });

  it('CloudFront path patterns: * spans slashes, ? is one character, the rest is literal', () => {
    expect(matchesPathPattern('/v2/*/tags/list', '/v2/a/b/tags/list')).toBe(true);
    expect(matchesPathPattern('/v2/*/tags/list', '/v2/a/tags/listx')).toBe(false);
    expect(matchesPathPattern('/v2/?', '/v2/a')).toBe(true);
    expect(matchesPathPattern('/v2/?', '/v2/ab')).toBe(false);
    expect(matchesPathPattern('/v2/_catalog', '/v2/_catalogs')).toBe(false);
    expect(matchesPathPattern('/a.b', '/aXb')).toBe(false);
  });

  it('both functions write the API-version header of the core', () => {
    const version = API_VERSION_HEADERS['docker-distribution-api-version']!;
    for (const name of ['viewer-request', 'viewer-response'] as const) {
      const source = readFileSync(edgeFunctionFile(name), 'utf8');
      const written = [...source.matchAll(/'docker-distribution-api-version'\]?\s*[:=]\s*\{ value: '([^']*)' \}/g)].map((m) => m[1]);
      expect(written.length, name).toBeGreaterThan(0);
      expect(new Set(written), name).toEqual(new Set([version]));
    }
  });
});
