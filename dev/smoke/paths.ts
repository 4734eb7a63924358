// Every path a push and pull can take through a deployment, in order, each one result: what was
// asked, what was answered, how long it took, and when it failed, the likely cause.
import { randomBytes } from 'node:crypto';
import type { Reply, SmokeClient } from './client.ts';
import { likelyCause, parseError } from './causes.ts';
import { digestOf, makeImage, OCI_MANIFEST, type Blob } from './image.ts';

export interface PathResult {
  path: string;
  /** ok, failed, or n/a (the deployment has no such path: e.g. no ingest service). */
  outcome: 'ok' | 'failed' | 'n/a';
  status?: number;
  code?: string;
  ms: number;
  detail?: string;
  cause?: string;
}

class Failure extends Error {
  readonly reply: Reply | undefined;
  /** The deployment has no such path (not a failure). */
  readonly na: boolean;
  constructor(reply: Reply | undefined, message: string, na = false) {
    super(message);
    this.reply = reply;
    this.na = na;
  }
}

function expectStatus(reply: Reply, ...statuses: number[]): Reply {
  if (!statuses.includes(reply.status)) throw new Failure(reply, `expected ${statuses.join(' or ')}, got ${reply.status}`);
  return reply;
}

const location = (c: SmokeClient, r: Reply): string => {
  const l = r.headers.get('location');
  if (!l) throw new Failure(r, 'no Location header');
  return new URL(l, c.base).href;
};

const withDigest = (loc: string, digest: string) => `${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

export async function runSmoke(c: SmokeClient): Promise<PathResult[]> {
  const results: PathResult[] = [];
  const repo = `smoke/run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const other = `${repo}-mount`;
  const img = makeImage();
  let manifestDigest = '';
  let referrerDigest = '';

  async function step(path: string, run: () => Promise<string | undefined>): Promise<boolean> {
    const started = performance.now();
    try {
      const detail = await run();
      results.push({ path, outcome: 'ok', ms: Math.round(performance.now() - started), ...(detail ? { detail } : {}) });
      return true;
    } catch (e) {
      const reply = e instanceof Failure ? e.reply : undefined;
      const err = reply ? parseError(reply.body) : {};
      const answer = { status: reply?.status ?? 0, ...err };
      const cause = reply ? likelyCause(path, answer) : undefined;
      results.push({
        path, outcome: e instanceof Failure && e.na ? 'n/a' : 'failed', ms: Math.round(performance.now() - started),
        ...(reply ? { status: reply.status } : {}), ...(err.code ? { code: err.code } : {}),
        detail: `${(e as Error).message}${err.reason ? `: ${err.reason}` : ''}`, ...(cause ? { cause } : {}),
      });
      return false;
    }
  }

  const post = async (name: string, query = '') => expectStatus(await c.send(`/v2/${name}/blobs/uploads/${query}`, { method: 'POST' }), 202, 201);
  const monolithic = async (name: string, b: Blob) => {
    const start = await post(name);
    expectStatus(start, 202);
    const put = await c.send(withDigest(location(c, start), b.digest), { method: 'PUT', body: b.bytes, headers: { 'content-type': 'application/octet-stream' } });
    return expectStatus(put, 201);
  };

  const pinged = await step('ping', async () => {
    let r = await c.send('/v2/');
    if (r.status === 401) {
      const problem = await c.login(r.headers.get('www-authenticate'), [`repository:${repo}:pull,push,delete`, `repository:${other}:pull,push,delete`]);
      if (problem) throw new Failure(r, problem);
      r = await c.send('/v2/');
    }
    expectStatus(r, 200);
    return r.headers.get('docker-distribution-api-version') ?? undefined;
  });
  if (!pinged) return results;

  await step('edge PUT', async () => {
    for (const b of [img.config, img.small, img.empty]) await monolithic(repo, b);
    return `3 monolithic PUTs into ${repo}`;
  });

  await step('streamed PATCH', async () => {
    const start = await post(repo);
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < img.streamed.bytes.length; i += 256 * 1024) ctl.enqueue(img.streamed.bytes.subarray(i, i + 256 * 1024));
        ctl.close();
      },
    });
    const patch = await c.send(location(c, start), { method: 'PATCH', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as Omit<RequestInit, 'headers'> & { headers: Record<string, string> });
    if (patch.status === 413 && parseError(patch.body).code === 'SIZE_INVALID') {
      throw new Failure(patch, 'this deployment takes no streamed bodies (no ingest service)', true);
    }
    expectStatus(patch, 202);
    expectStatus(await c.send(withDigest(location(c, patch), img.streamed.digest), { method: 'PUT' }), 201);
    return `${img.streamed.bytes.length} bytes chunked in one PATCH`;
  });
  // Without a streamed path the blob still has to be there for the manifest: one PUT.
  if (results.at(-1)?.outcome === 'n/a') await monolithic(repo, img.streamed).catch(() => undefined);

  await step('chunked PATCH', async () => {
    let loc = location(c, await post(repo));
    const size = img.chunked.bytes.length / 3;
    for (let i = 0; i < 3; i++) {
      const part = img.chunked.bytes.subarray(i * size, (i + 1) * size);
      const r = expectStatus(await c.send(loc, { method: 'PATCH', body: part, headers: { 'content-type': 'application/octet-stream', 'content-range': `${i * size}-${(i + 1) * size - 1}` } }), 202);
      loc = location(c, r);
    }
    expectStatus(await c.send(withDigest(loc, img.chunked.digest), { method: 'PUT' }), 201);
    return '3 PATCHes with Content-Range, then PUT';
  });

  await step('mount', async () => {
    const r = await c.send(`/v2/${other}/blobs/uploads/?mount=${encodeURIComponent(img.small.digest)}&from=${encodeURIComponent(repo)}`, { method: 'POST' });
    expectStatus(r, 201);
    return `${img.small.digest.slice(0, 19)}… into ${other}`;
  });

  await step('manifest by tag and digest', async () => {
    const body = img.manifest();
    manifestDigest = digestOf(body);
    const put = expectStatus(await c.send(`/v2/${repo}/manifests/v1`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } }), 201);
    if (put.headers.get('docker-content-digest') !== manifestDigest) throw new Failure(put, 'Docker-Content-Digest is not the manifest\'s digest');
    expectStatus(await c.send(`/v2/${repo}/manifests/v2`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } }), 201);
    for (const ref of ['v1', manifestDigest]) {
      const got = expectStatus(await c.send(`/v2/${repo}/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } }), 200);
      if (!got.body.equals(body)) throw new Failure(got, `GET by ${ref === 'v1' ? 'tag' : 'digest'} answered other bytes`);
    }
    return manifestDigest;
  });

  await step('referrers', async () => {
    const body = img.referrer({ digest: manifestDigest, size: img.manifest().length });
    referrerDigest = digestOf(body);
    expectStatus(await c.send(`/v2/${repo}/manifests/${referrerDigest}`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } }), 201);
    const list = expectStatus(await c.send(`/v2/${repo}/referrers/${manifestDigest}`), 200);
    const index = JSON.parse(list.body.toString()) as { manifests?: { digest: string }[] };
    if (!index.manifests?.some((m) => m.digest === referrerDigest)) throw new Failure(list, 'the referrer is not listed');
    return 'listed';
  });

  await step('ranged GET', async () => {
    const redirect = await c.send(`/v2/${repo}/blobs/${img.small.digest}`);
    expectStatus(redirect, 307, 200);
    const url = redirect.status === 307 ? location(c, redirect) : `${c.base}/v2/${repo}/blobs/${img.small.digest}`;
    const head = expectStatus(await c.send(url, { headers: { range: 'bytes=0-99' } }, { auth: redirect.status !== 307 }), 206);
    if (!head.body.equals(img.small.bytes.subarray(0, 100))) throw new Failure(head, 'bytes=0-99 answered other bytes');
    const tail = expectStatus(await c.send(url, { headers: { range: 'bytes=-100' } }, { auth: redirect.status !== 307 }), 206);
    if (!tail.body.equals(img.small.bytes.subarray(-100))) throw new Failure(tail, 'bytes=-100 answered other bytes than the last 100');
    return redirect.status === 307 ? `307 to ${new URL(url).host}` : 'served directly';
  });

  await step('tag list', async () => {
    const all = expectStatus(await c.send(`/v2/${repo}/tags/list`), 200);
    const tags = (JSON.parse(all.body.toString()) as { tags?: string[] }).tags ?? [];
    if (!tags.includes('v1') || !tags.includes('v2')) throw new Failure(all, `tags ${JSON.stringify(tags)}`);
    const page = expectStatus(await c.send(`/v2/${repo}/tags/list?n=1`), 200);
    if (!page.headers.get('link')) throw new Failure(page, 'no Link header on a page of 1');
    return `${tags.length} tags, paged`;
  });

  await step('delete', async () => {
    for (const d of [referrerDigest, manifestDigest].filter(Boolean)) expectStatus(await c.send(`/v2/${repo}/manifests/${d}`, { method: 'DELETE' }), 202);
    const gone = await c.send(`/v2/${repo}/manifests/${manifestDigest}`, { headers: { accept: OCI_MANIFEST } });
    if (gone.status !== 404 || parseError(gone.body).code !== 'MANIFEST_UNKNOWN') throw new Failure(gone, 'the deleted manifest is still served');
    return 'manifests deleted, GET 404 MANIFEST_UNKNOWN';
  });
  return results;
}
