// IAM checked against what the code calls (issue 14). start:aws runs a workload that takes every
// path a push, pull and delete can take (edge PUT and its event, streamed PATCH through ingest,
// chunked upload through the API, a mount, a HEAD of a blob that is not there, a manifest too large
// for a DynamoDB item, referrers, deletes, a cancelled upload); every AWS call of the API, events and
// ingest processes is recorded (operation, bucket and key, table, status) and evaluated against that
// process's IAM policy as synthesized for prod's primary region. The test fails on any call the
// policy would deny (including S3's rule that a 404 for a missing key needs s3:ListBucket, else S3
// answers 403) and on any S3 or DynamoDB action granted that no call used. The API's workload includes
// pull-through fetches from a real upstream into S3 (issue 18).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../functions/aws/call-recorder.ts';
import { recordCalls } from '../../functions/aws/call-recorder.ts';
import { startAwsLocal, type AwsLocal } from '../../dev/start-aws/start.ts';
import { addUser } from '../../functions/core/auth/admin.ts';
import { createProxyProject } from '../../functions/core/proxy/admin.ts';
import { existsSync } from 'node:fs';
import { startUpstream } from '../support/upstream-registry.ts';
import { imageManifest, OCI_MANIFEST, pushBlobPatch, pushBlobPut, putManifest, settleEvents, sha256, startUpload, streamed, withDigest } from '../support/counted-start-aws.ts';
import { allows, leadingKeysCondition, needsOf, resolve, roleStatements, type Place, type Statement } from './iam-policy.ts';
import { SYNTH_TIMEOUT_MS, synthesizeAll, type Json, type Synthesized } from './synth.ts';

type Process = 'api' | 'events' | 'ingest' | 'replica-api';
const PROCESSES = ['api', 'events', 'ingest', 'replica-api'] as const;
const AT: Place = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
const REPLICA = 'eu-west-1';
const AT_REPLICA: Place = { ...AT, region: REPLICA };
const at = (p: Process): Place => (p === 'replica-api' ? AT_REPLICA : AT);
const ENV = 'prod';

let s: Synthesized;
let local: AwsLocal;
const calls: Record<Process, CallRecord[]> = { api: [], events: [], ingest: [], 'replica-api': [] };

/**
 * Every read a replica region's API serves (the primary API down, so read routing fails each one
 * over): manifests by tag and digest (one with its body in S3), blob HEAD and GET, a blob that is
 * not there, tag list, referrers, catalog.
 */
async function replicaReads(base: string): Promise<void> {
  const send = async (url: string, init: RequestInit = {}) => {
    const r = await fetch(url, { redirect: 'manual', ...init });
    await r.arrayBuffer();
    return r;
  };
  const repo = 'iam/replica';
  const config = randomBytes(300);
  const layer = randomBytes(4000);
  await pushBlobPut(base, repo, config);
  await pushBlobPut(base, repo, layer);
  await pushBlobPut(base, repo, Buffer.from('{}'));
  const img = imageManifest(config, [layer]);
  await putManifest(base, repo, 'v1', img.manifest);
  const huge = hugeReferrer(config, img);
  expect((await fetch(`${base}/v2/${repo}/manifests/${sha256(huge)}`, { method: 'PUT', body: huge, headers: { 'content-type': OCI_MANIFEST } })).status).toBe(201);
  await settleEvents(local);
  local.regions!.setApiDown('us-east-1', true);
  try {
    for (const ref of ['v1', img.digest, sha256(huge)]) expect((await send(`${base}/v2/${repo}/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(200);
    expect((await send(`${base}/v2/${repo}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status).toBe(200);
    expect((await send(`${base}/v2/${repo}/blobs/${sha256(layer)}`)).status).toBe(307);
    expect((await send(`${base}/v2/${repo}/blobs/${sha256(config)}`, { method: 'HEAD' })).status).toBe(200);
    // Not there: the replica (the fallback of a viewer near the primary, which is down) answers 404,
    // asking S3 for the key first: a 404 there needs s3:ListBucket in the replica's role too.
    expect((await send(`${base}/v2/${repo}/blobs/${sha256(randomBytes(8))}`, { method: 'HEAD' })).status).toBe(404);
    expect((await send(`${base}/v2/${repo}/tags/list`)).status).toBe(200);
    expect((await send(`${base}/v2/${repo}/referrers/${img.digest}`)).status).toBe(200);
    expect((await send(`${base}/v2/_catalog`)).status).toBe(200);
  } finally {
    local.regions!.setApiDown('us-east-1', false);
  }
}

/** A manifest too large for a DynamoDB item (its body goes to S3) whose subject is `img`. */
function hugeReferrer(config: Buffer, img: { digest: string; manifest: Uint8Array }): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/example',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(Buffer.from('{}')), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(config), size: config.length }],
    subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length },
    annotations: { pad: 'x'.repeat(500 * 1024) },
  }));
}

async function workload(base: string): Promise<void> {
  const repo = 'iam/app';
  const other = 'iam/other';
  const send = async (url: string, init: RequestInit = {}) => {
    const r = await fetch(url, { redirect: 'manual', ...init });
    await r.arrayBuffer();
    return r;
  };
  // A blob HEAD before any push (clients ask first): no link, so the edge key is asked, and is missing.
  expect((await send(`${base}/v2/${repo}/blobs/${sha256(randomBytes(8))}`, { method: 'HEAD' })).status).toBe(404);
  const config = randomBytes(300);
  const small = randomBytes(64 * 1024);
  const big = randomBytes(12 * 1024 * 1024);
  await pushBlobPut(base, repo, config); // edge -> S3, the events Lambda records it
  await pushBlobPatch(base, repo, big); // one streamed PATCH through ingest (multipart)
  // Chunked through the API: two PATCHes with Content-Range, then the PUT.
  const digest = sha256(small);
  let loc = await startUpload(base, repo);
  for (const [from, to] of [[0, 32 * 1024], [32 * 1024, small.length]] as const) {
    const r = await send(loc, { method: 'PATCH', body: small.subarray(from, to), headers: { 'content-range': `${from}-${to - 1}`, 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(202);
    loc = new URL(r.headers.get('location')!, base).href;
  }
  expect((await send(loc, { method: 'GET' })).status).toBe(204);
  expect((await send(withDigest(loc, digest), { method: 'PUT' })).status).toBe(201);
  // A small blob in one request through the API (POST ?digest= with the body): committed by clearing a tag.
  const tiny = randomBytes(2000);
  expect((await send(`${base}/v2/${repo}/blobs/uploads/?digest=${sha256(tiny)}`, { method: 'POST', body: tiny, headers: { 'content-type': 'application/octet-stream', 'content-length': String(tiny.length) } })).status).toBe(201);
  // Streamed bodies that finish an upload go to ingest: a monolithic POST, and a last chunk in the PUT.
  const streamedPost = randomBytes(3 * 1024 * 1024);
  expect((await send(`${base}/v2/${repo}/blobs/uploads/?digest=${sha256(streamedPost)}`, { method: 'POST', body: streamed(streamedPost), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit)).status).toBe(201);
  const lastChunk = randomBytes(7 * 1024 * 1024);
  const session = await startUpload(base, repo);
  const first = await send(session, { method: 'PATCH', body: streamed(lastChunk.subarray(0, 6 * 1024 * 1024)), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
  expect(first.status).toBe(202);
  expect((await send(withDigest(new URL(first.headers.get('location')!, base).href, sha256(lastChunk)), { method: 'PUT', body: streamed(lastChunk.subarray(6 * 1024 * 1024)), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit)).status).toBe(201);
  const img = imageManifest(config, [small, big, tiny, streamedPost, lastChunk]);
  await putManifest(base, repo, 'v1', img.manifest);
  // By digest with two tags, one of which is there already: that one is checked in the transaction.
  const tagged = await fetch(`${base}/v2/${repo}/manifests/${img.digest}?tag=v1&tag=v2`, { method: 'PUT', body: img.manifest, headers: { 'content-type': OCI_MANIFEST } });
  expect(tagged.status, await tagged.text()).toBe(201);
  // A manifest too large for an item (its body goes to S3) that refers to the image as its subject.
  const huge = hugeReferrer(config, img);
  await pushBlobPut(base, repo, Buffer.from('{}'));
  const put = await fetch(`${base}/v2/${repo}/manifests/${sha256(huge)}`, { method: 'PUT', body: huge, headers: { 'content-type': OCI_MANIFEST } });
  expect(put.status, await put.text()).toBe(201);
  // Pulls.
  for (const ref of ['v1', img.digest, sha256(huge)]) expect((await send(`${base}/v2/${repo}/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(200);
  expect((await send(`${base}/v2/${repo}/blobs/${sha256(big)}`)).status).toBe(307);
  expect((await send(`${base}/v2/${repo}/blobs/${sha256(config)}`, { method: 'HEAD' })).status).toBe(200);
  expect((await send(`${base}/v2/${repo}/tags/list`)).status).toBe(200);
  expect((await send(`${base}/v2/${repo}/referrers/${img.digest}`)).status).toBe(200);
  expect((await send(`${base}/v2/_catalog`)).status).toBe(200);
  // A mount into another repository, a manifest there, a cancelled upload.
  expect((await send(`${base}/v2/${other}/blobs/uploads/?mount=${sha256(config)}&from=${repo}`, { method: 'POST' })).status).toBe(201);
  const cancelled = await startUpload(base, other);
  const patched = await send(cancelled, { method: 'PATCH', body: randomBytes(1000), headers: { 'content-type': 'application/octet-stream' } });
  expect((await send(new URL(patched.headers.get('location')!, base).href, { method: 'DELETE' })).status).toBe(204);
  // A streamed upload through ingest that is abandoned midway: cancelled, its multipart upload aborted.
  const abandoned = await startUpload(base, other);
  const p = await fetch(abandoned, { method: 'PATCH', body: new ReadableStream({ start: (c) => { c.enqueue(randomBytes(6 * 1024 * 1024)); c.close(); } }), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
  await p.arrayBuffer();
  expect((await send(new URL(p.headers.get('location')!, base).href, { method: 'DELETE' })).status).toBe(204);
  // Deletes: a tag, a manifest, a blob link, a blob that is not there.
  expect((await send(`${base}/v2/${repo}/manifests/${sha256(huge)}`, { method: 'DELETE' })).status).toBe(202);
  expect((await send(`${base}/v2/${repo}/manifests/v1`, { method: 'DELETE' })).status).toBe(202);
  expect((await send(`${base}/v2/${other}/blobs/${sha256(config)}`, { method: 'DELETE' })).status).toBe(202);
  expect((await send(`${base}/v2/${other}/blobs/${sha256(randomBytes(8))}`, { method: 'DELETE' })).status).toBe(404);
  // A duplicate of a stored blob written at the edge by another repository: the copy is deleted.
  await pushBlobPut(base, other, config);
}

/** Debian's docker-registry (distribution 2.8) as the upstream of a proxy project, when installed. */
const HAS_UPSTREAM = existsSync('/usr/bin/docker-registry');

/**
 * Pull-through (issue 18): a proxy project's manifest by tag and its blobs fetched from a real
 * upstream into S3 (a small one whole, one past 5 MiB in a multipart upload) under the lease on the
 * table, a tag revalidated after its TTL (0 here), a blob the upstream does not have, and a push
 * refused. Its upstream credentials are start:aws's folder stand-in: the Secrets Manager read is held
 * against the role in secrets-vs-calls.test.ts.
 */
async function proxyWorkload(base: string): Promise<void> {
  const upstream = await startUpstream();
  try {
    const repo = 'lib/app';
    const config = randomBytes(300);
    const small = randomBytes(64 * 1024);
    const big = randomBytes(7 * 1024 * 1024);
    for (const b of [config, small, big]) await pushBlobPut(upstream.url, repo, b);
    const img = imageManifest(config, [small, big]);
    await putManifest(upstream.url, repo, 'v1', img.manifest);
    await createProxyProject(local.deps.identity, local.upstreamSecrets, 'mirror', true, { upstream: upstream.url, tagTtlSeconds: 0 });
    const send = async (url: string, init: RequestInit = {}) => {
      const r = await fetch(url, { redirect: 'manual', ...init });
      await r.arrayBuffer();
      return r.status;
    };
    expect(await send(`${base}/v2/mirror/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } })).toBe(200);
    for (const b of [config, small, big]) expect(await send(`${base}/v2/mirror/${repo}/blobs/${sha256(b)}`)).toBe(307);
    expect(await send(`${base}/v2/mirror/${repo}/manifests/v1`, { headers: { accept: OCI_MANIFEST } })).toBe(200);
    expect(await send(`${base}/v2/mirror/${repo}/blobs/${sha256(randomBytes(8))}`)).toBe(404);
    expect(await send(`${base}/v2/mirror/${repo}/blobs/uploads/`, { method: 'POST' })).toBe(403);
  } finally {
    await upstream.stop();
  }
}

/** The role of each process in prod (the replica API's in eu-west-1), as the templates give it. */
function statementsOf(p: Process): Statement[] {
  const stack = { api: `OciRegistry-${ENV}-Api`, events: `OciRegistry-${ENV}-Events`, ingest: `OciRegistry-${ENV}-Ingest`, 'replica-api': `OciRegistry-${ENV}-Api-${REPLICA}` }[p];
  const template = s.templateJson(stack) as Json;
  const resources = Object.entries(template.Resources as Record<string, Json>);
  let roleArn: Json | undefined;
  if (p === 'ingest') roleArn = resources.find(([, r]) => r.Type === 'AWS::ECS::TaskDefinition')?.[1].Properties.TaskRoleArn;
  else roleArn = resources.find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler' && r.Properties.Environment?.Variables?.TABLE_NAME)?.[1].Properties.Role;
  const roleId = roleArn?.['Fn::GetAtt']?.[0] as string;
  expect(roleId, `${stack}: the role of the ${p} process`).toBeTruthy();
  return roleStatements(template, roleId, at(p));
}

/** The process's API function environment in the templates (the primary's, or the replica's). */
function apiVariables(p: Process): Json {
  const template = s.templateJson(p === 'replica-api' ? `OciRegistry-${ENV}-Api-${REPLICA}` : `OciRegistry-${ENV}-Api`) as Json;
  const fn = Object.values(template.Resources as Record<string, Json>).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.TABLE_NAME);
  return fn!.Properties.Environment.Variables;
}

/** The deployment's table and bucket names as the process sees them (a replica's bucket is its region's). */
function deployedNames(p: Process = 'api'): { table: (l: string) => string; bucket: (l: string) => string } {
  const vars = apiVariables(p);
  const table = resolve(vars.TABLE_NAME, at(p));
  const bucket = resolve(vars.BUCKET_NAME, at(p));
  return { table: () => table, bucket: () => bucket };
}

/**
 * Logins, as deployments run them (auth on): a good one and failed ones (each counted in the table)
 * in the primary region, then with the primary API down in the replica, where GET /token is served
 * too. A start:aws of its own, with auth and a replica region; its calls join the two APIs'.
 */
async function loginWorkload(): Promise<{ api: CallRecord[]; replica: CallRecord[] }> {
  const auth = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, edge: false, auth: true, replicaRegion: REPLICA });
  try {
    await addUser(auth.deps.identity, 'dev', 'correct horse battery staple', false);
    const api = [recordCalls(auth.deps.dynamo)];
    const replica = [recordCalls(auth.regions!.replicaDeps.dynamo)];
    const login = async (password: string) => {
      const r = await fetch(`${auth.url}/token?scope=repository:team/app:pull`, { headers: { authorization: `Basic ${Buffer.from(`dev:${password}`).toString('base64')}` } });
      await r.arrayBuffer();
      return r.status;
    };
    expect(await login('correct horse battery staple')).toBe(200);
    expect(await login('wrong')).toBe(401);
    auth.regions!.setApiDown('us-east-1', true);
    expect(await login('wrong again')).toBe(401);
    expect(await login('correct horse battery staple')).toBe(200);
    return { api: api.flatMap((r) => r.records), replica: replica.flatMap((r) => r.records) };
  } finally {
    await auth.close();
  }
}

beforeAll(async () => {
  s = synthesizeAll();
  const logins = await loginWorkload();
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, ingestEnv: { REGISTRY_CALL_COUNTS: 'on' }, replicaRegion: REPLICA });
  const replicaDeps = local.regions!.replicaDeps;
  const recorders = {
    api: [recordCalls(local.deps.dynamo), recordCalls(local.deps.s3)],
    events: [recordCalls(local.eventsDeps.dynamo), recordCalls(local.eventsDeps.s3)],
    'replica-api': [recordCalls(replicaDeps.dynamo), recordCalls(replicaDeps.s3)],
  };
  await fetch(`${local.ingest!.url}/healthz/calls?reset`);
  await workload(local.url);
  if (HAS_UPSTREAM) await proxyWorkload(local.url);
  await settleEvents(local);
  await replicaReads(local.url);
  calls.api = recorders.api.flatMap((r) => r.records);
  calls.events = recorders.events.flatMap((r) => r.records);
  calls['replica-api'] = recorders['replica-api'].flatMap((r) => r.records);
  calls.api.push(...logins.api);
  calls['replica-api'].push(...logins.replica);
  calls.ingest = ((await (await fetch(`${local.ingest!.url}/healthz/calls`)).json()) as { records: CallRecord[] }).records;
}, SYNTH_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await local?.close();
  s?.cleanup();
});

describe('IAM against the calls each process makes', () => {
  it('the workload reached every process and the paths it is meant to', () => {
    const ops = (p: Process) => new Set(calls[p].map((c) => c.operation));
    expect([...ops('api')]).toEqual(expect.arrayContaining(['GetItem', 'PutItem', 'TransactWriteItems', 'BatchGetItem', 'Query', 'HeadObject', 'PutObject', 'GetObject']));
    expect([...ops('events')]).toEqual(expect.arrayContaining(['HeadObject', 'TransactWriteItems']));
    expect([...ops('ingest')]).toEqual(expect.arrayContaining(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']));
    expect(calls.api.some((c) => c.operation === 'HeadObject' && c.status === 404), 'a HEAD of a missing key').toBe(true);
    expect([...ops('replica-api')]).toEqual(expect.arrayContaining(['GetItem', 'Query', 'GetObject', 'HeadObject']));
    expect(calls['replica-api'].some((c) => c.operation === 'HeadObject' && c.status === 404), 'a replica HEAD of a missing key').toBe(true);
    // A failed login counted in the replica region, and its logins audited there, in the items its role may write.
    const counted = calls['replica-api'].filter((c) => c.operation === 'UpdateItem');
    expect(counted.some((c) => c.tables?.[0]?.leadingKeys?.every((k) => k.startsWith('LOGIN#')))).toBe(true);
    expect(counted.some((c) => c.tables?.[0]?.leadingKeys?.every((k) => k.startsWith('AUDIT#')))).toBe(true);
    for (const c of counted) expect(c.tables?.[0]?.leadingKeys?.every((k) => k.startsWith('LOGIN#') || k.startsWith('AUDIT#'))).toBe(true);
  });

  it('the pull-through workload reached the API: leases on the table, the fetched blob in a multipart upload', (t) => {
    if (!HAS_UPSTREAM) t.skip('no docker-registry (Debian package docker-registry) to be the upstream');
    const keys = calls.api.flatMap((c) => c.tables?.flatMap((x) => x.leadingKeys ?? []) ?? []);
    expect(keys.some((k) => k.startsWith('PROXY#LEASE#')), 'a fetch lease').toBe(true);
    expect(keys.some((k) => k.startsWith('PROXY#TAG#')), 'a tag check').toBe(true);
    expect(calls.api.map((c) => c.operation)).toEqual(expect.arrayContaining(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'DeleteItem']));
  });

  it('the statements evaluated have no Deny and no condition but the one this evaluator models (LeadingKeys)', () => {
    for (const p of PROCESSES) {
      for (const st of statementsOf(p)) {
        expect(st.effect, `${p} ${st.sid}`).toBe('Allow');
        expect(() => leadingKeysCondition(st.condition), `${p} ${st.sid}`).not.toThrow();
      }
    }
  });

  it.each(PROCESSES)('%s: every call it made is allowed by its policy as deployed', (p) => {
    const statements = statementsOf(p);
    const names = deployedNames(p);
    const denied = new Set<string>();
    for (const call of calls[p]) {
      for (const need of needsOf(call, names, at(p))) {
        if (!allows(statements, need.action, need.resource, need.leadingKeys)) denied.add(`${need.action} on ${need.resource.replace(/[0-9a-f]{64}/g, '<hex>').replace(/[0-9a-f-]{36}/g, '<id>')} (${need.why})`);
      }
    }
    expect([...denied].sort()).toEqual([]);
  });

  /** Grants for paths this workload cannot provoke, each with its reason; an entry the workload does use fails the test (take it off). */
  const RARE: Record<Process, Record<string, string>> = {
    api: {},
    'replica-api': {},
    events: {
      's3:ListBucket': 'an event that arrives after its object was deleted finds it missing (404, not 403)',
    },
    ingest: { 's3:AbortMultipartUpload': 'a part upload that S3 keeps refusing ends its multipart upload (part-writer.ts); a client that goes away only rolls the session back' },
  };

  it.each(PROCESSES)('%s: every S3 and DynamoDB action its policy grants is one a call used (or listed as a rare path)', (p) => {
    const names = deployedNames(p);
    const used = new Set(calls[p].flatMap((c) => needsOf(c, names, at(p))).map((n) => n.action.toLowerCase()));
    const granted = statementsOf(p).flatMap((st) => st.actions).filter((a) => /^(s3|dynamodb):/.test(a));
    expect(granted.filter((a) => !used.has(a.toLowerCase()) && RARE[p][a] === undefined).sort()).toEqual([]);
    for (const a of Object.keys(RARE[p])) expect(used.has(a.toLowerCase()), `${p} used ${a}: take it off the rare list`).toBe(false);
  });
});
