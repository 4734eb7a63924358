// The web interface's files on `npm start` (functions/apps/server/ui-route.ts, functions/web/bundle.ts):
// what is served where, with which type, CSP and caching; refusals as OCI JSON errors; a failed build
// answered 503 and tried again; dist/web/ as `npm run build` writes it; served only with token auth.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_CSP, uiRoute } from '../../../functions/apps/server/ui-route.ts';
import { buildUi, loadUi, readBuiltUi, writeUi, type UiFile } from '../../../functions/web/bundle.ts';
import { startRegistry } from '../../support/registry.ts';

let built: UiFile[];
let dir: string;

/** A node:http server answering every request with `route` (as the registry's server does for its paths). */
async function serve(route: ReturnType<typeof uiRoute>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => void route.serve(new URL(req.url ?? '/', 'http://local'), req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  built = await buildUi();
  dir = await mkdtemp(join(tmpdir(), 'ui-route-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildUi', () => {
  it('makes index.html naming a hashed script and stylesheet, and the icon', () => {
    const paths = built.map((f) => f.path);
    expect(paths[0]).toBe('/');
    const script = paths.find((p) => /^\/ui\/main-[A-Z0-9]{8}\.js$/.test(p));
    const style = paths.find((p) => /^\/ui\/app-[A-Z0-9]{8}\.css$/.test(p));
    expect(script && style).toBeTruthy();
    expect(paths).toContain('/ui/icon.svg');
    const index = built[0]!.body.toString();
    expect(index).toContain(`<script type="module" src="${script}"></script>`);
    expect(index).toContain(`href="${style}"`);
    // No inline script: the CSP would refuse it.
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(built.find((f) => f.path === script)!.body.length).toBeLessThan(100_000);
  });

  it('writes dist/web/ as `npm run build` does, and reads it back the same', async () => {
    const out = join(dir, 'web');
    await writeUi(built, out);
    const again = (await readBuiltUi(out))!;
    expect(again.map((f) => [f.path, f.contentType, f.immutable, f.body.length]).sort()).toEqual(built.map((f) => [f.path, f.contentType, f.immutable, f.body.length]).sort());
    expect(await readBuiltUi(join(dir, 'nothing-here'))).toBeUndefined();
  });

  it('loadUi builds from the sources; when it cannot (no esbuild), it serves dist/web/, and without that it fails', async () => {
    expect((await loadUi())!.map((f) => f.path)).toEqual(built.map((f) => f.path));
    const noEsbuild = async (): Promise<UiFile[]> => {
      throw new Error("Cannot find package 'esbuild'");
    };
    const out = join(dir, 'fallback');
    await writeUi(built, out);
    expect((await loadUi(noEsbuild, out))!.map((f) => f.path).sort()).toEqual(built.map((f) => f.path).sort());
    await expect(loadUi(noEsbuild, join(dir, 'absent'))).rejects.toThrow(/esbuild/);
  });
});

describe('uiRoute', () => {
  it('serves / and /index.html as the page, assets under /ui/, and nothing else', () => {
    const route = uiRoute(async () => built);
    for (const p of ['/', '/index.html', '/ui/x.js']) expect(route.matches(p)).toBe(true);
    for (const p of ['/v2/', '/api/v1/projects', '/token', '/uix', '/index.htm']) expect(route.matches(p)).toBe(false);
  });

  it('answers with the type, the CSP, and caching by name: the page no-cache, hashed assets immutable; HEAD without a body', async () => {
    const { url, server } = await serve(uiRoute(async () => built));
    try {
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toBe(UI_CSP);
      expect(UI_CSP).toContain("script-src 'self'");
      expect(UI_CSP).not.toContain('unsafe-inline');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await page.text()).toBe(built[0]!.body.toString());
      const script = built.find((f) => f.path.endsWith('.js'))!;
      const js = await fetch(`${url}${script.path}`);
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(Buffer.from(await js.arrayBuffer()).equals(script.body)).toBe(true);
      const icon = await fetch(`${url}/ui/icon.svg`);
      expect([icon.headers.get('content-type'), icon.headers.get('cache-control')]).toEqual(['image/svg+xml', 'no-cache']);
      const head = await fetch(`${url}/index.html`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(built[0]!.body.length));
      expect(await head.text()).toBe('');
    } finally {
      server.close();
    }
  });

  it('refuses other methods (405 with Allow) and unknown files (404), as OCI JSON errors', async () => {
    const { url, server } = await serve(uiRoute(async () => built));
    try {
      const post = await fetch(`${url}/`, { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect(((await post.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('UNSUPPORTED');
      const missing = await fetch(`${url}/ui/nope.js`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NOT_FOUND');
    } finally {
      server.close();
    }
  });

  it('a build that fails answers 503 and is tried again at the next request; one that yields nothing answers 404', async () => {
    let calls = 0;
    const { url, server } = await serve(uiRoute(async () => {
      calls++;
      if (calls === 1) throw new Error('esbuild: syntax error');
      return built;
    }));
    const empty = await serve(uiRoute(async () => undefined));
    try {
      const first = await fetch(`${url}/`);
      expect(first.status).toBe(503);
      expect(((await first.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('UNAVAILABLE');
      expect((await fetch(`${url}/`)).status).toBe(200);
      expect((await fetch(`${url}/`)).status).toBe(200);
      expect(calls).toBe(2);
      expect((await fetch(`${empty.url}/`)).status).toBe(404);
    } finally {
      server.close();
      empty.server.close();
    }
  });
});

describe('npm start', () => {
  it('serves the interface at / with token auth on; without auth / stays the registry\'s 404', async () => {
    const withAuth = await startRegistry({ env: { REGISTRY_AUTH: 'on' } });
    const without = await startRegistry();
    try {
      const page = await fetch(`${withAuth.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(UI_CSP);
      const script = /src="(\/ui\/[^"]+)"/.exec(await page.text())![1]!;
      expect((await fetch(`${withAuth.url}${script}`)).status).toBe(200);
      // The registry's own routes are untouched.
      expect((await fetch(`${withAuth.url}/v2/`)).status).toBe(401);
      const none = await fetch(`${without.url}/`);
      expect(none.status).toBe(404);
      expect(none.headers.get('content-type')).toContain('application/json');
    } finally {
      await Promise.all([withAuth.stop(), without.stop()]);
    }
  });
});
