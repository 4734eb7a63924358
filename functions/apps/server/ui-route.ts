// The web interface on `npm start`: `/` (index.html) and its assets under /ui/, built from the
// sources at the first request for them (functions/web/bundle.ts) and kept in memory, so a start
// never serves a bundle older than its sources and a registry nobody browses builds nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from '../../http/server.ts';
import { log } from '../../http/log.ts';
import { loadUi, UI_ASSET_PREFIX, type UiFile } from '../../web/bundle.ts';
import { UI_CACHE_CONTROL, UI_SECURITY_HEADERS } from '../../web/headers.ts';

export { UI_CSP } from '../../web/headers.ts';

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ errors: [{ code, message, detail: {} }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers }).end(body);
  return code;
}

export function uiRoute(load: () => Promise<UiFile[] | undefined> = () => loadUi()): ExtraRoute {
  let files: Promise<Map<string, UiFile>> | undefined;
  const table = (): Promise<Map<string, UiFile>> => {
    files ??= load().then((list) => new Map((list ?? []).map((f) => [f.path, f])));
    // A failed build is tried again at the next request (sources fixed, esbuild installed).
    files.catch(() => (files = undefined));
    return files;
  };
  return {
    matches: (path) => path === '/' || path === '/index.html' || path.startsWith(UI_ASSET_PREFIX),
    async serve(url: URL, req: IncomingMessage, res: ServerResponse) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return error(res, 405, 'UNSUPPORTED', 'the web interface is read with GET', { allow: 'GET, HEAD' });
      let served: Map<string, UiFile>;
      try {
        served = await table();
      } catch (e) {
        log('error', 'web interface build failed', { error: e instanceof Error ? e.message : String(e) });
        return error(res, 503, 'UNAVAILABLE', 'the web interface could not be built: see the server log');
      }
      const file = served.get(url.pathname === '/index.html' ? '/' : url.pathname);
      if (!file) return error(res, 404, 'NOT_FOUND', 'no such file of the web interface');
      res.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.body.length),
        // Hashed names never change; the page and the icon are checked again each time.
        'cache-control': file.immutable ? UI_CACHE_CONTROL.immutable : UI_CACHE_CONTROL.revalidate,
        ...UI_SECURITY_HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return undefined;
    },
  };
}
