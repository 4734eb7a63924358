// Token auth in the AWS shape (issue 15): start:aws with REGISTRY_AUTH=on, as a deployment with a
// domain runs. Users and projects in the DynamoDB table; the API Lambda and the ingest service both
// verify the bearer token (a layer over 4.5 MiB streams through ingest); skopeo pushes as a user,
// pulls anonymously from a public project, and is refused on a private one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { addImmutableRule, addUser, createProject, setMember } from '../../../functions/core/auth/admin.ts';
import { SEED_PASSWORD, seedTeamAndPub } from '../../support/auth-seed.ts';
import { pushTinyImage } from '../../support/tiny-image.ts';
import { createSkopeo, toolGate, type Skopeo } from '../../support/clients.ts';
import type { Context } from 'aws-lambda';
import { ORIGIN_SECRET_HEADER } from '../../../functions/aws/origin-guard.ts';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { apiEvent } from '../../apps/api-lambda/events.ts';
import { makeOciImage, type TestImage } from '../../support/images.ts';

const gate = toolGate(['skopeo']);
const PASSWORD = SEED_PASSWORD;
const MiB = 1024 * 1024;

let local: AwsLocal;
let skopeo: Skopeo;
let work: string;
let img: TestImage;
let host: string;

beforeAll(async () => {
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, auth: true });
  host = new URL(local.url).host;
  await seedTeamAndPub(local.deps.identity);
  await addUser(local.deps.identity, 'dev2', PASSWORD, false);
  await setMember(local.deps.identity, 'team', 'dev2', 'developer');
  if (gate.missing) return;
  skopeo = await createSkopeo();
  work = await mkdtemp(join(tmpdir(), 'aws-auth-'));
  img = await makeOciImage(join(work, 'layout'), { layerSizes: [6 * MiB, 100 * 1024] });
}, 90_000);

afterAll(async () => {
  await skopeo?.close();
  await local?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const copy = (args: string[]) => skopeo.run(['copy', '--preserve-digests', ...args], { timeoutMs: 60_000 });

describe('start:aws with token auth', () => {
  it('GET /v2/ without a token: 401 with the realm of REGISTRY_URL', async () => {
    const r = await fetch(`${local.url}/v2/`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="${local.url}/token",service="${host}"`);
  });

  it('a user pushes (the big layer through ingest, which checks the token too) and pulls back', { timeout: 90_000 }, async (t) => {
    gate.check(t);
    await copy(['--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${join(work, 'layout')}:v1`, `docker://${host}/team/app:v1`]);
    const stats = (await (await fetch(`${local.url}/_local/stats`)).json()) as { bytes: { ingest: number } };
    expect(stats.bytes.ingest).toBeGreaterThanOrEqual(6 * MiB);
    const inspect = JSON.parse((await skopeo.run(['inspect', '--tls-verify=false', '--creds', `dev:${PASSWORD}`, `docker://${host}/team/app:v1`])).text) as { Digest: string };
    expect(inspect.Digest).toBe(img.manifestDigest);
  });

  it('a private project refuses anonymous pulls; a public one serves them', { timeout: 90_000 }, async (t) => {
    gate.check(t);
    await expect(skopeo.run(['inspect', '--tls-verify=false', '--no-creds', `docker://${host}/team/app:v1`])).rejects.toThrow(/401|unauthorized|authentication/i);
    await copy(['--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${join(work, 'layout')}:v1`, `docker://${host}/pub/app:v1`]);
    const out = join(work, 'pulled');
    await copy(['--src-tls-verify=false', '--src-no-creds', `docker://${host}/pub/app:v1`, `oci:${out}:v1`]);
  });

  it('the API Gateway URL called directly (no CloudFront origin header) is 403 DENIED; a viewer cannot forge the header through the front door', async () => {
    const direct = await local.apiHandler(apiEvent('GET', '/v2/'), {} as Context);
    expect(direct.statusCode).toBe(403);
    expect(JSON.parse(String(direct.body)).errors[0].code).toBe('DENIED');
    const forged = await local.apiHandler(apiEvent('GET', '/v2/', { headers: { [ORIGIN_SECRET_HEADER]: 'guess' } }), {} as Context);
    expect(forged.statusCode).toBe(403);
    // Through the front door the header is CloudFront's own, whatever the viewer sent.
    expect((await fetch(`${local.url}/v2/`, { headers: { [ORIGIN_SECRET_HEADER]: 'guess' } })).status).toBe(401);
  });

  it('a repeated anonymous pull of a public image by digest costs no Lambda invocation and no DynamoDB read (the CloudFront cache)', { timeout: 90_000 }, async (t) => {
    gate.check(t);
    await copy(['--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${join(work, 'layout')}:v1`, `docker://${host}/pub/cached:v1`]);
    const pull = (to: string) => copy(['--src-tls-verify=false', '--src-no-creds', `docker://${host}/pub/cached@${img.manifestDigest}`, `oci:${join(work, to)}:x`]);
    await pull('first');
    const dynamo = countCalls(local.deps.dynamo);
    const api = local.frontDoor.stats.apiOrigins.api ?? 0;
    const hits = local.cdn.hits;
    await pull('second');
    expect(dynamo.calls).toEqual({});
    expect(local.frontDoor.stats.apiOrigins.api ?? 0).toBe(api);
    // The /v2/ challenge, the anonymous token, the manifest and each blob's redirect.
    expect(local.cdn.hits - hits).toBeGreaterThanOrEqual(4);
  });

  it('a delete purges the repository from the cache: an anonymous GET cached a moment ago reaches the origin again and finds it gone', { timeout: 90_000 }, async (t) => {
    gate.check(t);
    await copy(['--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${join(work, 'layout')}:v1`, `docker://${host}/pub/purged:v1`]);
    const url = `${local.url}/v2/pub/purged/manifests/${img.manifestDigest}`;
    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    expect((await fetch(url, { headers: accept })).status).toBe(200);
    const cached = await fetch(url, { headers: accept });
    expect(cached.headers.get('x-cache')).toBe('Hit from cloudfront');
    // A maintainer deletes the manifest (developers may not).
    await setMember(local.deps.identity, 'pub', 'dev', 'maintainer');
    try {
      const r = await fetch(`${local.url}/token?service=${host}&scope=repository:pub/purged:delete`, { headers: { authorization: `Basic ${Buffer.from(`dev:${PASSWORD}`).toString('base64')}` } });
      const token = ((await r.json()) as { token: string }).token;
      expect((await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(202);
    } finally {
      await setMember(local.deps.identity, 'pub', 'dev', 'developer');
    }
    const after = await fetch(url, { headers: accept });
    expect(after.status).toBe(404);
    expect(after.headers.get('x-cache')).toBeNull();
  });

  it('a private manifest is never served to anonymous from the cache, even right after a signed-in GET of the same URL', { timeout: 90_000 }, async (t) => {
    gate.check(t);
    await copy(['--dest-tls-verify=false', '--dest-creds', `dev:${PASSWORD}`, `oci:${join(work, 'layout')}:v1`, `docker://${host}/team/cached:v1`]);
    const url = `${local.url}/v2/team/cached/manifests/${img.manifestDigest}`;
    const tokenFor = async (basic?: string) => {
      const r = await fetch(`${local.url}/token?service=${host}&scope=repository:team/cached:pull`, basic ? { headers: { authorization: `Basic ${basic}` } } : {});
      return ((await r.json()) as { token: string }).token;
    };
    const signedIn = await fetch(url, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json', authorization: `Bearer ${await tokenFor(Buffer.from(`dev:${PASSWORD}`).toString('base64'))}` } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('cache-control')).toBe('private, no-store');
    for (const authorization of [undefined, `Bearer ${await tokenFor()}`]) {
      const anonymous = await fetch(url, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json', ...(authorization ? { authorization } : {}) } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('x-cache')).toBeNull();
    }
  });

  it('an upload PATCH straight to ingest without a token is refused', async () => {
    const session = await fetch(`${local.ingest!.url}/v2/team/app/blobs/uploads/00000000-0000-4000-8000-000000000000?_state=x`, { method: 'PATCH', body: 'abc' });
    expect(session.status).toBe(401);
  });

  it("an upload belongs to its pusher: another member with push gets 403 DENIED on its Location, through the API and through ingest", { timeout: 60_000 }, async () => {
    const tokenOf = async (user: string) => {
      const basic = Buffer.from(`${user}:${PASSWORD}`).toString('base64');
      const r = await fetch(`${local.url}/token?service=${host}&scope=repository:team/owned:pull,push`, { headers: { authorization: `Basic ${basic}` } });
      expect(r.status).toBe(200);
      return `Bearer ${((await r.json()) as { token: string }).token}`;
    };
    const [dev, dev2] = [await tokenOf('dev'), await tokenOf('dev2')];
    const post = await fetch(`${local.url}/v2/team/owned/blobs/uploads/`, { method: 'POST', headers: { authorization: dev } });
    expect(post.status).toBe(202);
    const location = new URL(post.headers.get('location')!, local.url).toString();
    const patch = (auth: string, body: Buffer) =>
      fetch(location, { method: 'PATCH', body, headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `0-${body.length - 1}` } });
    // A small body (the API) and one over 4.5 MiB (ingest), each with the owner's Location.
    const requests = async () => ((await (await fetch(`${local.url}/_local/stats`)).json()) as { requests: { api: number; ingest: number } }).requests;
    for (const [size, origin] of [[1024, 'api'], [5 * MiB, 'ingest']] as const) {
      const before = await requests();
      const r = await patch(dev2, Buffer.alloc(size, 1));
      expect((await requests())[origin]).toBe(before[origin] + 1);
      expect(r.status).toBe(403);
      const body = (await r.json()) as { errors: { code: string; detail: { reason: string } }[] };
      expect(body.errors[0]?.code).toBe('DENIED');
      expect(body.errors[0]?.detail.reason).toMatch(/another principal/);
    }
    for (const method of ['GET', 'DELETE']) expect((await fetch(location, { method, headers: { authorization: dev2 } })).status).toBe(403);
    // The owner goes on where nothing was written.
    const own = await patch(dev, Buffer.alloc(1024, 1));
    expect(own.status).toBe(202);
    expect(own.headers.get('range')).toBe('0-1023');
  });

  it('an immutable tag (a rule on the project in the table) refuses another digest with 403 DENIED naming the rule', { timeout: 60_000 }, async () => {
    // A project of its own: the registry keeps a project's rules for a few seconds once it has read them.
    await createProject(local.deps.identity, 'frozen', false);
    await setMember(local.deps.identity, 'frozen', 'dev', 'developer');
    await addImmutableRule(local.deps.identity, 'frozen', { repositories: 'frozen/app', tags: 'v*' });
    const r = await fetch(`${local.url}/token?service=${host}&scope=repository:frozen/app:pull,push`, { headers: { authorization: `Basic ${Buffer.from(`dev:${PASSWORD}`).toString('base64')}` } });
    const auth = { authorization: `Bearer ${((await r.json()) as { token: string }).token}` };
    const { image, put } = await pushTinyImage(local.url, 'frozen/app', 'v1', auth);
    expect(put.status).toBe(201);
    expect((await pushTinyImage(local.url, 'frozen/app', 'v1', auth, image)).put.status).toBe(201);
    const moved = await pushTinyImage(local.url, 'frozen/app', 'v1', auth);
    expect(moved.put.status).toBe(403);
    expect(((await moved.put.json()) as { errors: unknown[] }).errors[0]).toMatchObject({ code: 'DENIED', detail: { tag: 'v1', current: image.digest, rule: 'frozen/app:v*' } });
    expect((await pushTinyImage(local.url, 'frozen/app', 'latest', auth)).put.status).toBe(201);
  });
});
