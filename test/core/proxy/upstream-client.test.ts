// The upstream client against a real token server (test/support/token-upstream.ts) in front of a
// small backend: a token per scope, reused until it expires, then renewed; Basic challenges; and the
// faults that make the cache serve stale (429, 5xx, nothing listening), faked only for those.
import { expect, test } from 'vitest';
import { createServer } from 'node:http';
import { startTokenUpstream } from '../../support/token-upstream.ts';
import { UpstreamClient, UpstreamUnavailableError } from '../../../functions/core/proxy/upstream-client.ts';

async function backend(t: { onTestFinished(fn: () => unknown): void }, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const credentials = { username: 'bot', password: 'secret-password-1' };

test('token flow: one token per scope, reused, renewed once expired', async (t) => {
  const base = await backend(t, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  // expires_in 6 s minus the client's 5 s margin: the token is good for about 1 s.
  const front = await startTokenUpstream(base, { user: credentials.username, password: credentials.password, expiresIn: 6 });
  t.onTestFinished(() => front.stop());
  const client = new UpstreamClient(front.url, async () => credentials);
  for (let i = 0; i < 3; i++) expect((await client.request('GET', 'lib/a', 'manifests/v1')).status).toBe(200);
  expect((await client.request('GET', 'lib/b', 'manifests/v1')).status).toBe(200);
  expect(front.tokenRequests.map((r) => r.scope)).toEqual(['repository:lib/a:pull', 'repository:lib/b:pull']);
  await new Promise((r) => setTimeout(r, 1200));
  expect((await client.request('GET', 'lib/a', 'manifests/v1')).status).toBe(200);
  expect(front.tokenRequests.map((r) => r.scope)).toEqual(['repository:lib/a:pull', 'repository:lib/b:pull', 'repository:lib/a:pull']);
  expect(front.tokenRequests.every((r) => r.user === 'bot')).toBe(true);

  // Wrong credentials: the token server refuses, the request comes back 401 (not thrown).
  const wrong = new UpstreamClient(front.url, async () => ({ username: 'bot', password: 'nope' }));
  expect((await wrong.request('GET', 'lib/a', 'manifests/v1')).status).toBe(401);
});

test('Basic challenge: answered with the credentials, then sent up front', async (t) => {
  const seen: (string | undefined)[] = [];
  const expected = `Basic ${Buffer.from('bot:secret-password-1').toString('base64')}`;
  const base = await backend(t, (req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== expected) res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    else res.writeHead(200).end('ok');
  });
  const client = new UpstreamClient(base, async () => credentials);
  expect((await client.request('GET', 'a', 'manifests/v1')).status).toBe(200);
  expect((await client.request('GET', 'a', 'manifests/v2')).status).toBe(200);
  expect(seen).toEqual([undefined, expected, expected]);
  // Anonymous against a Basic upstream: its 401 is the answer.
  expect((await new UpstreamClient(base, async () => undefined).request('GET', 'a', 'manifests/v1')).status).toBe(401);
});

test('429, 5xx and an upstream that is not there are UpstreamUnavailableError (the cache may serve stale)', async (t) => {
  let status = 429;
  const base = await backend(t, (_req, res) => res.writeHead(status).end());
  const client = new UpstreamClient(base, async () => undefined);
  await expect(client.request('HEAD', 'a', 'manifests/v1')).rejects.toMatchObject({ name: 'UpstreamUnavailableError', status: 429 });
  status = 503;
  await expect(client.request('HEAD', 'a', 'manifests/v1')).rejects.toMatchObject({ status: 503 });
  status = 404;
  expect((await client.request('HEAD', 'a', 'manifests/v1')).status).toBe(404);
  const down = new UpstreamClient('http://127.0.0.1:1', async () => undefined);
  await expect(down.request('GET', 'a', 'manifests/v1')).rejects.toBeInstanceOf(UpstreamUnavailableError);
});
