// GC cost (issue 16): a registry of N manifests seeded on DynamoDB Local + s3rver (through the
// metadata store's own writes, and a small object per blob in the bucket), a tenth of its tags
// deleted, then two GC passes as the GC Lambda runs them (runPage until done): the first marks what
// the deleted tags left, the second deletes the manifests. Per pass: DynamoDB requests by operation
// and the capacity units DynamoDB reports (ReturnConsumedCapacity), S3 requests by operation, wall
// time. BENCH_GC_MANIFESTS=10000,30000 sets the sizes (default 10000; 100000 takes long here).
// Each size runs in a child process with OpenSSL's legacy provider: s3rver's list continuation
// tokens use DES, which Node 17+ has only with it (docs: DESIGN §7).
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_S3_CREDENTIALS } from '../dev/start-aws/s3-local.ts';
import { contentKey } from '../functions/adapters/s3/s3-keys.ts';
import { createGcAwsDeps } from '../functions/aws/gc-deps.ts';
import { runPage, startPass, type GcDeps } from '../functions/core/gc/run.ts';
import type { BlobRecord, MetadataStore } from '../functions/core/ports.ts';
import { openBackend, startAwsServices } from '../test/support/gc-backends.ts';
import { fileURLToPath } from 'node:url';
import { run } from './proc.ts';
import { newFact, type Fact } from './rows.ts';

const MANIFESTS_PER_REPO = 100;
const CONCURRENCY = 24;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface PassCost {
  wallMs: number;
  dynamo: Record<string, number>;
  rcu: number;
  wcu: number;
  s3: Record<string, number>;
  marked: number;
  deleted: number;
}

interface Counter {
  ops: Record<string, number>;
  rcu: number;
  wcu: number;
}

type Middlewared = DynamoDBClient | S3Client;

/** Counts each request by operation; asks DynamoDB for the capacity each one consumed. */
function count(client: Middlewared, c: Counter, capacity: boolean): void {
  (client.middlewareStack as { add(m: unknown, o: unknown): void }).add(
    (next: (a: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const op = (context.commandName ?? '?').replace(/Command$/, '');
      c.ops[op] = (c.ops[op] ?? 0) + 1;
      if (capacity) args.input.ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const cc = out.output.ConsumedCapacity as { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number } | { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }[] | undefined;
      for (const u of Array.isArray(cc) ? cc : cc ? [cc] : []) {
        // Reads report CapacityUnits only (DynamoDB Local); writes likewise: classify by operation.
        const units = u.CapacityUnits ?? (u.ReadCapacityUnits ?? 0) + (u.WriteCapacityUnits ?? 0);
        if (/^(Get|BatchGet|Query|Scan)/.test(op)) c.rcu += units;
        else c.wcu += units;
      }
      return out;
    },
    { step: 'initialize', name: 'benchCount' },
  );
}

const sha = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

async function pool(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await work(next++);
  }));
}

/** N manifests in N/100 repositories: a base layer per repository, a config and a top layer per manifest. */
async function seed(metadata: MetadataStore, s3: S3Client, bucket: string, manifests: number, now: number, log: (m: string) => void): Promise<void> {
  const record = async (repo: string, digest: string, size: number): Promise<void> => {
    const blob: BlobRecord = { digest, size, location: contentKey(digest), createdAt: now };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: blob.location, Body: randomBytes(64) }));
    if (metadata.recordBlob) await metadata.recordBlob(repo, blob);
    else await metadata.linkBlob(repo, await metadata.putBlob(blob));
  };
  const repos = Math.ceil(manifests / MANIFESTS_PER_REPO);
  await pool(repos, (r) => record(`bench/r${r}`, sha(`base-${r}`), 30_000_000));
  const started = performance.now();
  let done = 0;
  await pool(manifests, async (i) => {
    const repo = `bench/r${i % repos}`;
    const [config, top] = [sha(`config-${i}`), sha(`top-${i}`)];
    await record(repo, config, 1500);
    await record(repo, top, 50_000_000);
    const body = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1500 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(`base-${i % repos}`), size: 30_000_000 }, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: top, size: 50_000_000 }],
    }));
    await metadata.putManifest(repo, {
      digest: sha(body), mediaType: OCI_MANIFEST, size: body.length, body, blobs: [config, sha(`base-${i % repos}`), top], manifests: [], createdAt: now,
      artifactType: 'application/vnd.oci.image.config.v1+json',
    }, [`v${i}`]);
    if (++done % Math.max(1, Math.floor(manifests / 10)) === 0) log(`gc: seeding, ${done} of ${manifests} manifests after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  });
}

async function pass(deps: GcDeps, counters: { d: Counter; s: Counter }): Promise<PassCost> {
  for (const c of [counters.d, counters.s]) [c.ops, c.rcu, c.wcu] = [{}, 0, 0];
  const started = performance.now();
  let state = startPass({ graceMs: 1, untaggedMs: 1, dryRun: false }, deps.now());
  while (state.phase !== 'done') state = await runPage(deps, state);
  const sum = (prefix: string) => Object.entries(state.report.counts).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
  return { wallMs: performance.now() - started, dynamo: { ...counters.d.ops }, rcu: counters.d.rcu, wcu: counters.d.wcu, s3: { ...counters.s.ops }, marked: sum('mark.'), deleted: sum('delete.') };
}

export interface GcBench {
  manifests: number;
  seedSeconds: number;
  passes: PassCost[];
}

export async function gcCost(manifests: number, log: (m: string) => void): Promise<GcBench> {
  const aws = await startAwsServices();
  try {
    const b = await openBackend('aws', aws);
    const { bucket, table } = b.s3!;
    const t0 = performance.now();
    await seed(b.metadata, b.s3!.client, bucket, manifests, Date.now(), log);
    const seedSeconds = (performance.now() - t0) / 1000;
    log(`gc: seeded ${manifests} manifests in ${seedSeconds.toFixed(0)} s`);
    const repos = Math.ceil(manifests / MANIFESTS_PER_REPO);
    for (let i = 0; i < manifests; i += 10) await b.metadata.deleteTag(`bench/r${i % repos}`, `v${i}`);
    const gc = createGcAwsDeps({ region: 'us-east-1', tableName: table, bucketName: bucket, graceMs: 1, untaggedMs: 1, s3Endpoint: aws.s3.endpoint, dynamoEndpoint: aws.dynamo.endpoint, s3ForcePathStyle: true }, LOCAL_S3_CREDENTIALS);
    const counters = { d: { ops: {}, rcu: 0, wcu: 0 }, s: { ops: {}, rcu: 0, wcu: 0 } };
    count(gc.dynamo, counters.d, true);
    count(gc.s3, counters.s, false);
    const passes: PassCost[] = [];
    for (let p = 0; p < 2; p++) {
      await new Promise((r) => setTimeout(r, 20));
      passes.push(await pass(gc.gc, counters));
      log(`gc: ${manifests} manifests, pass ${p + 1}: ${(passes[p]!.wallMs / 1000).toFixed(1)} s`);
    }
    return { manifests, seedSeconds, passes };
  } finally {
    await aws.stop();
  }
}

const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const list = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/**
 * Prices of docs/deploy.md §10 (us-east-1, late 2025 list prices, assumptions): DynamoDB on-demand
 * $0.125 per million read units and $0.625 per million write units, S3 LIST $0.005 and
 * HEAD/GET $0.0004 per 1,000 (DELETE free), Lambda arm64 1 GB $0.0000133334 per second, Step
 * Functions $0.025 per 1,000 state transitions (4 per step).
 */
export function monthlyUsd(p: PassCost, runsPerMonth: number, steps: number): number {
  const s3 = ((p.s3.ListObjectsV2 ?? 0) * 0.005 + ((p.s3.HeadObject ?? 0) + (p.s3.GetObject ?? 0)) * 0.0004 + (p.s3.PutObject ?? 0) * 0.005) / 1000;
  const ddb = (p.rcu * 0.125 + p.wcu * 0.625) / 1e6;
  const lambda = (p.wallMs / 1000) * 0.0000133334;
  const sfn = (steps * 4 * 0.025) / 1000;
  return (s3 + ddb + lambda + sfn) * runsPerMonth;
}

/** The facts of the GC rows, per size measured, and how the cost grows from the smallest size. */
export function gcFacts(results: GcBench[]): Fact[] {
  const facts: Fact[] = [];
  for (const r of results) {
    const k = `${r.manifests / 1000}k`;
    for (const [i, p] of r.passes.entries()) {
      const f = newFact({ id: `gc_${k}_pass${i + 1}`, label: `GC pass ${i + 1} (${i === 0 ? 'marks' : 'deletes'}) over ${r.manifests} manifests, 10% untagged`, unit: 's' });
      f.value = p.wallMs / 1000;
      f.notes.push(`DynamoDB ${total(p.dynamo)} requests (${list(p.dynamo)}), ${p.rcu.toFixed(0)} read units, ${p.wcu.toFixed(0)} write units; S3 ${total(p.s3)} requests (${list(p.s3)}); ${p.marked} marked, ${p.deleted} deleted`);
      facts.push(f);
    }
    const month = newFact({ id: `gc_${k}_month`, label: `GC cost per month, daily runs over ${r.manifests} manifests`, unit: 'USD' });
    month.value = r.passes.reduce((n, p) => n + monthlyUsd(p, 15, 1), 0);
    month.notes.push('30 daily runs, half like pass 1 and half like pass 2, prices of docs/deploy.md; Lambda time taken as the wall time here (DynamoDB Local on a shared machine, not AWS)');
    facts.push(month);
  }
  if (results.length > 1) {
    const [a, z] = [results[0]!, results.at(-1)!];
    const g = newFact({ id: 'gc_growth', label: `GC pass 1 wall time, ${z.manifests} vs ${a.manifests} manifests`, unit: 'x' });
    g.value = z.passes[0]!.wallMs / a.passes[0]!.wallMs;
    g.notes.push(`manifests x${(z.manifests / a.manifests).toFixed(1)}; DynamoDB read units x${(z.passes[0]!.rcu / a.passes[0]!.rcu).toFixed(2)}, requests x${(total(z.passes[0]!.dynamo) / total(a.passes[0]!.dynamo)).toFixed(2)}`);
    facts.push(g);
  }
  return facts;
}

/** One size in a child process (see the top of this file); its result. */
export async function gcCostChild(manifests: number, log: (m: string) => void): Promise<GcBench> {
  // An hour at least; BENCH_OP_TIMEOUT_MS raises it (100,000 manifests take longer on a loaded machine).
  const timeoutMs = Math.max(3_600_000, Number(process.env.BENCH_OP_TIMEOUT_MS ?? 0));
  const r = await run(process.execPath, ['--openssl-legacy-provider', fileURLToPath(import.meta.url), String(manifests)], { timeoutMs });
  for (const line of r.stderr.split('\n').filter(Boolean)) log(line);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as GcBench;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await gcCost(Number(process.argv[2]), (m) => process.stderr.write(`${m}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
