// Figures of the AWS shape that have no side-by-side: the API bundle's size and cold start, AWS
// requests and compute bytes per push and pull (from the counters in aws.ts), and ctr push with the
// edge fast path off (every PUT through ingest) against the run with it on, and the blob PUT likewise.
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { bundleAll } from '../infra/build.ts';
import { startAws, total, type AwsRequests, type AwsTarget } from './aws.ts';
import { coldStartFacts } from './cold-starts.ts';
import { handlerCpuFacts } from './handler-cpu-facts.ts';
import { onCleanup } from './proc.ts';
import { median, newFact, newRow, type Fact, type Row } from './rows.ts';
import type { AwsRun, Ctx } from './scenarios.ts';
import type { Containerd, Target } from './servers.ts';


/** The api bundle (built as `npm run build` builds it) and its cold start (cold-starts.ts). */
export async function bundleFacts(ctx: Ctx, aws: Target & { aws?: { env: Record<string, string> } }, root: string, coldStarts: number, cpu: { runs: number; n: number; warmup: number }): Promise<Fact[]> {
  const size = newFact({ id: 'api_bundle', label: 'api bundle dist/api/index.mjs (npm run build)', unit: 'KiB', target: { max: 1_000_000 / 1024, text: '<= 1 MB' } });
  try {
    const bundles = await bundleAll({ outDir: join(root, 'dist') });
    const api = bundles.find((b) => b.name === 'api');
    if (!api) throw new Error('no api bundle was built');
    size.value = api.bytes / 1024;
    size.notes.push(`${api.bytes} bytes; events ${bundles.find((b) => b.name === 'events')?.bytes ?? '-'} bytes, ingest ${bundles.find((b) => b.name === 'ingest')?.bytes ?? '-'} bytes`);
    const env = aws.aws?.env ?? {};
    return [size, ...(await coldStartFacts(ctx, api.file, env, coldStarts)), ...(await handlerCpuFacts(ctx, api.file, env, cpu))];
  } catch (e) {
    size.error = (e as Error).message;
    return [size];
  }
}

const MiB = 1024 * 1024;

/** Medians per push of what the compute counters saw besides request bodies, and of the edge's bytes. */
function bytesNote(runs: AwsRun[]): string {
  const m = (f: (r: AwsRun) => number): string => (median(runs.map(f)) / MiB).toFixed(1);
  return `per push (median): object bytes through the SDK of the API handler + ingest: ${m((r) => r.bytes.computeS3.written)} MiB written to S3, ${m((r) => r.bytes.computeS3.read)} MiB read; straight into S3 at the edge: ${m((r) => r.bytes.s3)} MiB`;
}

const describe = (r: AwsRequests): string =>
  `DynamoDB ${Object.entries(r.dynamo).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; S3 ${Object.entries(r.s3).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`;

/** Requests and bytes per operation of the aws side, from what scenarios.ts recorded. */
export function awsFacts(ctx: Ctx): Fact[] {
  const out: Fact[] = [];
  const scenarios: [string, string][] = [
    ['skopeo push', 'skopeo push (3 layers: PATCH through ingest)'],
    ['skopeo pull', 'skopeo pull'],
    ['ctr push', 'ctr push (3 layers: PUT edge -> S3)'],
    ['ctr pull', 'ctr pull (content fetch)'],
  ];
  for (const [key, label] of scenarios) {
    const runs = ctx.aws[key];
    if (!runs || runs.length === 0) continue;
    const ddb = newFact({ id: `${key.replace(' ', '_')}_dynamodb`, label: `DynamoDB requests per ${label}`, unit: 'requests' });
    ddb.runs = runs.map((r) => total(r.requests.dynamo));
    ddb.value = median(ddb.runs);
    ddb.notes.push(`first run: ${describe(runs[0]!.requests)} (API + events + ingest)`);
    const s3 = newFact({ id: `${key.replace(' ', '_')}_s3`, label: `S3 requests per ${label} (by compute)`, unit: 'requests' });
    s3.runs = runs.map((r) => total(r.requests.s3));
    s3.value = median(s3.runs);
    out.push(ddb, s3);
    if (key.endsWith('push')) {
      const bytes = newFact({
        id: `${key.replace(' ', '_')}_compute_bytes`,
        label: `upload body bytes read inside the API handler + ingest per ${label}`,
        unit: 'MiB',
        ...(key === 'ctr push' ? { target: { max: 0, text: '0' } } : {}),
      });
      bytes.runs = runs.map((r) => r.bytes.compute / MiB);
      bytes.value = median(bytes.runs);
      bytes.notes.push(bytesNote(runs));
      out.push(bytes);
    }
  }
  const noEdge = ctx.aws['ctr push (no edge)'];
  if (noEdge && noEdge.length > 0) {
    const bytes = newFact({ id: 'ctr_push_no_edge_compute_bytes', label: 'upload body bytes read inside the API handler + ingest per ctr push, edge fast path off', unit: 'MiB' });
    bytes.runs = noEdge.map((r) => r.bytes.compute / MiB);
    bytes.value = median(bytes.runs);
    bytes.notes.push(`first run: ${describe(noEdge[0]!.requests)}`, bytesNote(noEdge));
    out.push(bytes);
  }
  return out;
}

/** Runs `measure` on a second start:aws whose front door has no edge (every upload goes to ingest). */
async function withoutEdge(ctx: Ctx, row: Row, measure: (c: Ctx, row: Row) => Promise<void>, before?: () => Promise<unknown>): Promise<void> {
  const t = await startAws({ edge: false });
  onCleanup('start:aws without edge', () => t.stop());
  try {
    await before?.();
    await measure({ ...ctx, targets: [t] }, row);
    if (row.errors.aws) throw new Error(row.errors.aws);
  } finally {
    await t.stop();
  }
}

/** ctr push through a second start:aws whose front door has no edge (each PUT goes to ingest). */
export async function ctrNoEdge(ctx: Ctx, cd: Containerd, archive: string, n: number, pushes: (c: Ctx, row: Row) => Promise<void>): Promise<Fact> {
  const fact = newFact({ id: 'ctr_push_no_edge', label: 'ctr push, edge fast path off (each PUT through ingest)', unit: 's' });
  try {
    const row = newRow({ id: 'ctr_push_no_edge', label: fact.label, unit: 's', better: 'lower', runsWanted: n });
    await withoutEdge(ctx, row, pushes, () => cd.ctr(['images', 'import', '--no-unpack', '--base-name', 'localhost/bench/import', archive]));
    fact.runs = row.runs.aws ?? [];
    fact.value = row.value.aws;
  } catch (e) {
    fact.error = (e as Error).message;
  }
  return fact;
}

/**
 * The blob PUT row again on a start:aws without edge, so the bytes go through ingest (with the edge
 * they go straight to S3 and ingest does nothing): its speed, and its CPU against npm start's on the
 * PUT row (cpuRatioFacts).
 */
export async function putNoEdge(ctx: Ctx, put: Row, puts: (c: Ctx, row: Row) => Promise<void>): Promise<Fact[]> {
  const label = `${put.label}, edge fast path off (PUT through ingest)`;
  const speed = newFact({ id: `${put.id}_no_edge`, label, unit: put.unit });
  const row = newRow({ id: `${put.id}_no_edge`, label, unit: put.unit, better: put.better, runsWanted: put.runsWanted });
  try {
    await withoutEdge(ctx, row, puts);
    speed.runs = row.runs.aws ?? [];
    speed.value = row.value.aws;
  } catch (e) {
    speed.error = (e as Error).message;
    return [speed];
  }
  const ours = put.cpu.ours;
  return [speed, ...cpuRatioFacts([{ ...row, cpu: { ...row.cpu, ...(ours ? { ours } : {}) } }])];
}

/**
 * The ceiling under the handler path's req/s: DynamoDB Local's own GetItem rate, 32 at a time, from
 * this process with the API handler's client (the SDK's work included), for `seconds`.
 */
export async function dynamoCeiling(aws: AwsTarget, seconds: number): Promise<Fact[]> {
  const rate = newFact({ id: 'dynamodb_local_getitem_rps', label: `DynamoDB Local GetItem alone, 32 concurrent, ${seconds}s (ceiling of the handler path)`, unit: 'req/s' });
  const p99 = newFact({ id: 'dynamodb_local_getitem_p99', label: 'DynamoDB Local GetItem alone, p99 latency', unit: 'ms' });
  try {
    const client = aws.aws.local.deps.dynamo;
    const table = aws.aws.env.TABLE_NAME ?? 'registry';
    const latencies: number[] = [];
    const end = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'R#bench/img1' }, sk: { S: 'T#v1' } }, ConsistentRead: true }));
        latencies.push(performance.now() - t0);
      }
    }));
    latencies.sort((a, b) => a - b);
    rate.value = latencies.length / seconds;
    p99.value = latencies[Math.floor(latencies.length * 0.99)];
  } catch (e) {
    rate.error = p99.error = (e as Error).message;
  }
  return [rate, p99];
}

/**
 * start:aws CPU against npm start's server CPU, same row, run by run (ratio per run pair):
 * - the upload path's compute, the ingest process (what Fargate bills per byte), target <= 1.5x;
 * - everything of start:aws on this machine but DynamoDB Local: the bench process (API handler, and
 *   the stand-ins for API Gateway, CloudFront, S3 and the events Lambda, which share it) and ingest.
 * The API handler's own share cannot be told apart from the stand-ins' in one process; its CPU per
 * request is the handler-CPU row.
 */
export function cpuRatioFacts(rows: Row[]): Fact[] {
  const out: Fact[] = [];
  const ratio = (id: string, label: string, aws: number[], ours: number[], target?: { max: number; text: string }): Fact => {
    const fact = newFact({ id, label, unit: 'x', ...(target ? { target } : {}) });
    fact.runs = Array.from({ length: Math.min(aws.length, ours.length) }, (_, i) => aws[i]! / ours[i]!);
    fact.value = median(aws) / median(ours);
    fact.notes.push(`start:aws ${median(aws).toFixed(2)} s against npm start ${median(ours).toFixed(2)} s (medians per run)`);
    return fact;
  };
  for (const row of rows) {
    const all = row.cpu.aws ?? [];
    const ingest = row.cpuMore.aws ?? [];
    const ours = row.cpu.ours ?? [];
    if (all.length === 0 || ours.length === 0) continue;
    // A row whose bytes never reach ingest (the edge sends them to S3: ingest's CPU is a few health
    // checks, under 5% of npm start's) has nothing of ingest to set against npm start; see putNoEdge.
    if (ingest.length > 0 && median(ingest) > 0.05 * median(ours)) out.push(ratio(`${row.id}_ingest_cpu_vs_npm_start`, `CPU, start:aws ingest / npm start: ${row.label}`, ingest, ours, { max: 1.5, text: '<= 1.5x' }));
    out.push(ratio(`${row.id}_cpu_vs_npm_start`, `CPU, all of start:aws but DynamoDB Local (stand-ins included) / npm start: ${row.label}`, all, ours));
  }
  return out;
}
