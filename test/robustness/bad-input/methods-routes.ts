// Cases for methods a route does not allow (405 with Allow) and for paths that are no route at all.
import { printable, type Rng } from '../lib.ts';
import { REPO } from './config.ts';
import { ANY, E, type Expect, X4 } from './contract.ts';
import { uuidOf } from './fixtures.ts';
import type { Kit } from './kit.ts';

export function addMethodAndRouteCases(k: Kit): void {
  const { c, add } = k;
  const m = c.manifest;
  // --- Wrong methods and unknown routes ------------------------------------------------------------
  const routes: [string, string[], (rng: Rng) => string][] = [
    ['/v2/', ['GET', 'HEAD'], () => '/v2/'],
    ['/v2', ['GET', 'HEAD'], () => '/v2'],
    ['catalog', ['GET', 'HEAD'], () => '/v2/_catalog'],
    ['tags', ['GET', 'HEAD'], () => `/v2/${REPO}/tags/list`],
    ['manifest', ['GET', 'HEAD', 'PUT', 'DELETE'], () => `/v2/${REPO}/manifests/good`],
    ['blob', ['GET', 'HEAD', 'DELETE'], () => `/v2/${REPO}/blobs/${c.layer.digest}`],
    ['uploads', ['POST', 'HEAD'], () => `/v2/${REPO}/blobs/uploads/`],
    ['upload-session', ['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'], (rng) => `/v2/${REPO}/blobs/uploads/${uuidOf(rng)}`],
    ['referrers', ['GET', 'HEAD'], () => `/v2/${REPO}/referrers/${m.digest}`],
    ['signed-blob', ['GET', 'HEAD'], () => c.signedPath],
  ];
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'LOCK', 'SEARCH', 'PURGE'];
  for (const [label, allowed, path] of routes) {
    for (const method of methods) {
      if (allowed.includes(method)) continue;
      add(`method/${method} ${label}`, async (rng, h) => {
        await h.req({ method, path: path(rng), body: rng.chance(0.3) ? rng.bytes(100) : undefined }, { ...E(405, 'UNSUPPORTED'), notAllowed: method });
      });
    }
    add(`method/OPTIONS ${label}`, async (rng, h) => {
      await h.req({ method: 'OPTIONS', path: path(rng) }, E([200, 204, 405]));
    });
  }
  const unknownRoutes: [string, Expect][] = [
    ['/', E(404, 'UNSUPPORTED')],
    ['/v1/', E(404, 'UNSUPPORTED')],
    ['/v3/', E(404, 'UNSUPPORTED')],
    ['/V2/', E(404, 'UNSUPPORTED')],
    ['/favicon.ico', E(404, 'UNSUPPORTED')],
    ['/robots.txt', E(404, 'UNSUPPORTED')],
    ['/api/v2/', E(404, 'UNSUPPORTED')],
    [`/v2/${REPO}/unknown/thing`, E(404, 'UNSUPPORTED')],
    [`/v2/${REPO}/manifests`, E(404, 'UNSUPPORTED')],
    [`/v2/${REPO}/blobs`, E(404, 'UNSUPPORTED')],
    [`/v2/${REPO}/tags/list/extra`, X4],
    [`/v2/${REPO}/blobs/uploads/a/b`, X4],
    ['/v2/_catalog/extra', X4],
    ['//v2/', X4],
    ['/v2//', X4],
    ['/v2/.', X4],
    ['/%76%32/', ANY],
    ['/_blobs/', X4],
    ['/_blobs', X4],
    ['/_blobs/../v2/', X4],
    ['/v2/%2e%2e/%2e%2e/etc/passwd', X4],
    [`/${'x'.repeat(8000)}`, E(404, 'UNSUPPORTED')],
  ];
  for (const [path, expect] of unknownRoutes) {
    add(`route/${printable(path).slice(0, 40)}`, async (rng, h) => {
      await h.req({ method: rng.pick(['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE']), path }, expect);
    });
  }
}
