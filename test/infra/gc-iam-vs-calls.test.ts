// The GC Lambda's IAM checked against what it calls (issue 16, item 2; as iam-vs-calls.test.ts for the
// other processes). The deployed handler's wiring (createGcAwsDeps, the run store) runs on DynamoDB
// Local + s3rver over a registry that has every kind of garbage: untagged images, a referrer of a
// deleted image (its delete is a transaction with a ConditionCheck), a manifest too large for an item
// (its body an S3 object), bytes no record names, a new run whose state is not there yet (404).
// Every call is held against the GC role of prod as synthesized: each must be allowed, and each S3
// or DynamoDB action granted must be used.
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CloudFrontClient, CreateInvalidationCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCalls, type CallRecord } from '../../functions/aws/call-recorder.ts';
import { createGcAwsDeps } from '../../functions/aws/gc-deps.ts';
import { purgeAfterGc, type GcPurgeOutcome } from '../../functions/aws/gc-purge.ts';
import { distributionComment } from '../../functions/adapters/cloudfront/cloudfront-cache.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../../functions/adapters/dynamodb/dynamo-identity.ts';
import { createProject } from '../../functions/core/auth/admin.ts';
import { addRetentionRule } from '../../functions/core/auth/retention-admin.ts';
import { LOCAL_S3_CREDENTIALS } from '../../dev/start-aws/s3-local.ts';
import { GcRunStore } from '../../functions/adapters/s3/gc-runs.ts';
import { createGcHandler, type GcStep } from '../../functions/apps/gc-lambda/handler.ts';
import { call, openBackend, pushImage, startAwsServices, type AwsServices } from '../support/gc-backends.ts';
import { OCI_MANIFEST } from '../support/oci.ts';
import { allows, needsOf, resolve, roleStatements, type Place } from './iam-policy.ts';
import { SYNTH_TIMEOUT_MS, synthesizeAll, type Json, type Synthesized } from './synth.ts';

const AT: Place = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
const STACK = 'OciRegistry-prod-Gc';
const GRACE_MS = 800;
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let s: Synthesized;
let aws: AwsServices;
const calls: CallRecord[] = [];
let retained: string[] = [];
// CloudFront has no local stand-in: its answers are mocked, the calls the GC makes are what is checked.
const cloudfront = mockClient(CloudFrontClient);
const purges: GcPurgeOutcome[] = [];

/** Garbage of every kind GC handles, then runs a grace apart until one changes nothing. */
async function workload(): Promise<void> {
  const b = await openBackend('aws', aws);
  const { bucket, table, client } = b.s3!;
  const layers = Array.from({ length: 3 }, () => randomBytes(4000));
  const old = await pushImage(b.registry, 'iam/gc', 'old', [layers[0]!, layers[1]!]);
  await pushImage(b.registry, 'iam/gc', 'keep', [layers[2]!]);
  // A referrer of the image whose tag goes, with a body too large for an item (stored in S3).
  const empty = Buffer.from('{}');
  const r = await call(b.registry, 'POST', `/v2/iam/gc/blobs/uploads/?digest=${sha256(empty)}`, empty);
  expect(r.status).toBe(201);
  const referrer = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/example',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }, layers: [],
    subject: { mediaType: OCI_MANIFEST, digest: old, size: 1 }, annotations: { pad: 'x'.repeat(400 * 1024) },
  }));
  expect((await call(b.registry, 'PUT', `/v2/iam/gc/manifests/${sha256(referrer)}`, referrer, { 'content-type': OCI_MANIFEST })).status).toBe(201);
  expect((await call(b.registry, 'DELETE', '/v2/iam/gc/manifests/old')).status).toBe(202);
  // A retention rule of the project (read by the GC from the table) that removes pr-1 (a conditional tag delete).
  const identity = new DynamoIdentityStore(DynamoDBDocumentClient.from(aws.dynamo.client()), table);
  await createProject(identity, 'iam', false);
  await addRetentionRule(identity, 'iam', { repositories: 'iam/*', tags: 'pr-*', keep: 1 });
  await pushImage(b.registry, 'iam/gc', 'pr-1', [randomBytes(100)]);
  await pushImage(b.registry, 'iam/gc', 'pr-2', [randomBytes(100)]);
  // Bytes that no record names.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: `blobs/sha256/${createHash('sha256').update('stray').digest('hex')}`, Body: 'stray' }));

  const cdnComment = distributionComment('prod');
  cloudfront.on(ListDistributionsCommand).resolves({ DistributionList: { Marker: '', MaxItems: 100, Quantity: 1, IsTruncated: false, Items: [{ Id: 'EPRODEXAMPLE', Comment: cdnComment } as never] } });
  cloudfront.on(CreateInvalidationCommand).resolves({});
  const deps = createGcAwsDeps({ region: 'us-east-1', tableName: table, bucketName: bucket, graceMs: GRACE_MS, untaggedMs: GRACE_MS, s3Endpoint: aws.s3.endpoint, dynamoEndpoint: aws.dynamo.endpoint, s3ForcePathStyle: true, cdnComment }, { accessKeyId: LOCAL_S3_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey });
  const recorders = [recordCalls(deps.dynamo), recordCalls(deps.s3)];
  const handler = createGcHandler(() => ({ gc: deps.gc, runs: new GcRunStore(deps.s3, bucket), options: { graceMs: GRACE_MS, untaggedMs: GRACE_MS }, pageSize: 2 }), {
    onDone: async (_runId, report) => void purges.push(await purgeAfterGc(deps.cloudfront, cdnComment, report)),
  });
  for (let run = 0; run < 10; run++) {
    await sleep(GRACE_MS + 50);
    let step: GcStep = await handler({ runId: `iam-${run}`, seq: 0 }, { getRemainingTimeInMillis: () => 0 });
    while (!step.done) step = await handler({ runId: step.runId, seq: step.seq }, { getRemainingTimeInMillis: () => 0 });
    if (!Object.keys(step.counts).some((k) => k.startsWith('delete.') || k.startsWith('mark.'))) break;
  }
  calls.push(...recorders.flatMap((rec) => rec.records));
  retained = [...(await b.metadata.gcRepository('iam/gc')).tags.keys()].sort();
  for (const rec of recorders) rec.detach();
}

beforeAll(async () => {
  s = synthesizeAll();
  aws = await startAwsServices();
  await workload();
}, SYNTH_TIMEOUT_MS + 120_000);
afterAll(async () => {
  cloudfront.restore();
  await aws?.stop();
  s?.cleanup();
});

function gcRole() {
  const template = s.templateJson(STACK) as Json;
  const fn = Object.values(template.Resources as Record<string, Json>).find((r) => r.Type === 'AWS::Lambda::Function')!;
  const vars = fn.Properties.Environment.Variables;
  const [table, bucket] = [resolve(vars.TABLE_NAME, AT), resolve(vars.BUCKET_NAME, AT)];
  return { statements: roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0], AT), names: { table: () => table, bucket: () => bucket } };
}

describe('GC IAM against the calls the GC Lambda makes', () => {
  it('the workload took every path: scan, queries, marks, deletes, a transaction, listings, heads, deletes of objects, a missing state', () => {
    const ops = new Set(calls.map((c) => c.operation));
    expect([...ops].sort()).toEqual(expect.arrayContaining(['DeleteItem', 'DeleteObject', 'GetItem', 'GetObject', 'HeadObject', 'ListObjectsV2', 'PutObject', 'Query', 'Scan', 'TransactWriteItems', 'UpdateItem']));
    expect(calls.some((c) => c.operation === 'TransactWriteItems' && c.tables!.some((t) => t.actions.includes('ConditionCheckItem'))), 'a referrer deleted with a check on its subject').toBe(true);
    expect(calls.some((c) => c.operation === 'DeleteObject' && c.key!.startsWith('manifests/')), 'a manifest body in S3 deleted').toBe(true);
    expect(calls.some((c) => c.operation === 'GetObject' && c.key!.startsWith('gc/') && c.status === 404), 'a new run finds no state').toBe(true);
    expect(calls.some((c) => c.operation === 'GetItem' && c.tables!.some((t) => t.leadingKeys?.includes('ID#PROJECT'))), 'the project read for its retention rules').toBe(true);
    expect(retained, 'a tag removed by a retention rule (a conditional transaction)').toEqual(['keep', 'pr-2']);
  });

  it('every call is allowed by the GC role as deployed', () => {
    const { statements, names } = gcRole();
    const denied = new Set<string>();
    for (const c of calls) {
      for (const need of needsOf(c, names, AT)) if (!allows(statements, need.action, need.resource)) denied.add(`${need.action} on ${need.resource.replace(/[0-9a-f]{64}/g, '<hex>')} (${need.why})`);
    }
    expect([...denied].sort()).toEqual([]);
  });

  it('every S3 and DynamoDB action the GC role grants is one a call used', () => {
    const { statements, names } = gcRole();
    const used = new Set(calls.flatMap((c) => needsOf(c, names, AT)).map((n) => n.action.toLowerCase()));
    expect(statements.flatMap((st) => st.actions).filter((a) => /^(s3|dynamodb):/.test(a) && !used.has(a.toLowerCase())).sort()).toEqual([]);
    for (const st of statements) expect(st.effect).toBe('Allow');
  });

  it('a run that deleted something purged the CDN, and each CloudFront call is allowed by the GC role, and each CloudFront action it grants is used', () => {
    expect(purges.some((p) => p.purged && p.paths.includes('/v2/iam/gc/*')), JSON.stringify(purges)).toBe(true);
    const { statements } = gcRole();
    const account = s.assembly.getStackByName(STACK).environment.account;
    const needs = cloudfront.calls().map((c) => {
      const command = c.args[0] as { constructor: { name: string }; input: { DistributionId?: string } };
      const action = `cloudfront:${command.constructor.name.replace(/Command$/, '')}`;
      return { action, resource: command.input.DistributionId ? `arn:aws:cloudfront::${account}:distribution/${command.input.DistributionId}` : '*' };
    });
    expect(needs.map((n) => n.action).sort()).toEqual(expect.arrayContaining(['cloudfront:CreateInvalidation', 'cloudfront:ListDistributions']));
    expect(needs.filter((n) => !allows(statements, n.action, n.resource))).toEqual([]);
    const used = new Set(needs.map((n) => n.action));
    expect(statements.flatMap((st) => st.actions).filter((a) => a.startsWith('cloudfront:') && !used.has(a))).toEqual([]);
  });
});
