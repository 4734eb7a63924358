// Docker Hub's way of authenticating, on loopback: a front that answers 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` unless the request carries a token its
// own token server issued (distribution's token spec: GET <realm>?service=&scope=, Basic credentials,
// answer `{token, access_token, expires_in, issued_at}`), and otherwise relays to an upstream.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface TokenUpstream {
  url: string;
  /** Token requests: the scope asked and whether credentials came with it. */
  tokenRequests: { scope: string; service: string; user: string | undefined }[];
  /** Registry requests that came with a valid token. */
  authorized: number;
  stop(): Promise<void>;
}

export async function startTokenUpstream(backend: string, opts: { user: string; password: string; expiresIn?: number }): Promise<TokenUpstream> {
  const tokens = new Map<string, { scope: string; until: number }>();
  const state: TokenUpstream = { url: '', tokenRequests: [], authorized: 0, stop: async () => undefined };
  const service = 'token-upstream';

  function token(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const scope = url.searchParams.get('scope') ?? '';
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, password] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    state.tokenRequests.push({ scope, service: url.searchParams.get('service') ?? '', user });
    if (user !== opts.user || password !== opts.password) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const value = randomBytes(16).toString('hex');
    const expiresIn = opts.expiresIn ?? 300;
    tokens.set(value, { scope, until: Date.now() + expiresIn * 1000 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: value, access_token: value, expires_in: expiresIn, issued_at: new Date().toISOString() }));
  }

  async function relay(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const repo = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
    const scope = repo ? `repository:${repo}:pull` : '';
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const held = given ? tokens.get(given) : undefined;
    if (!held || held.until < Date.now() || (scope && held.scope !== scope)) {
      const challenge = `Bearer realm="${state.url}/token",service="${service}"${scope ? `,scope="${scope}"` : ''}`;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    state.authorized++;
    const headers: Record<string, string> = {};
    if (req.headers.accept) headers.accept = req.headers.accept;
    const up = await fetch(`${backend}${url.pathname}${url.search}`, { method: req.method ?? 'GET', headers, redirect: 'manual' });
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(up.status, out);
    if (up.body) await pipeline(Readable.fromWeb(up.body as WebReadableStream), res);
    else res.end();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') return token(req, url, res);
    relay(req, url, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  state.url = `http://127.0.0.1:${port}`;
  state.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
