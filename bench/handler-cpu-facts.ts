// The API handler's CPU per manifest GET by tag, emulator excluded (handler-cpu.ts in a fresh
// process, DynamoDB replayed at the wire by dynamo-replay.ts), logging at INFO and EMF metrics on as
// deployed. Not in it: the token check (the API Gateway authorizer is its own Lambda in AWS; start:aws
// runs `access: open`), the origin-secret comparison, Lambda's runtime API round trip.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoReplay } from './dynamo-replay.ts';
import { run } from './proc.ts';
import { median, newFact, type Fact } from './rows.ts';
import type { Ctx } from './scenarios.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface CpuRun {
  n: number;
  medianUs: number;
  p10Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  wallMs: number;
  floorMedianUs: number;
  leanFloorMedianUs: number;
  statuses: Record<string, number>;
}

export async function handlerCpuFacts(ctx: Ctx, bundle: string, awsEnv: Record<string, string>, opts: { runs: number; n: number; warmup: number }): Promise<Fact[]> {
  const fact = newFact({
    id: 'api_handler_cpu_manifest_get',
    label: `api handler CPU per manifest GET by tag (median of ${opts.n} requests per run; DynamoDB replayed at the wire, INFO logs + metrics)`,
    unit: 'us',
    target: { max: 250, text: '<= 250 us' },
  });
  const floor = newFact({
    id: 'sdk_getitem_cpu_floor',
    label: 'the same GetItem alone with the SDK client, interleaved (the floor of a handler on the SDK)',
    unit: 'us',
  });
  const leanFloor = newFact({
    id: 'lean_getitem_cpu_floor',
    label: 'the same GetItem alone with the lean client the handler reads with (adapters/dynamodb/get-item-client.ts), interleaved',
    unit: 'us',
  });
  const endpoint = awsEnv.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) {
    fact.error = 'no DynamoDB endpoint in the start:aws environment';
    return [fact];
  }
  const replay = await startDynamoReplay(endpoint);
  try {
    const env = { ...awsEnv, AWS_ENDPOINT_URL_DYNAMODB: replay.url, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_SERVICE_NAME: 'registry-api' };
    const runs: CpuRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      // BENCH_CPU_PROF=<dir>: also write a V8 CPU profile of each run there (to find where the time goes).
      // With BENCH_HANDLER_SOURCE=1 it runs the handler's TypeScript source instead of the bundle (readable names).
      const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
      const module = process.env.BENCH_HANDLER_SOURCE === '1' ? join(here, '..', 'functions', 'apps', 'api-lambda', 'index.ts') : bundle;
      const r = await run(process.execPath, [...prof, join(here, 'handler-cpu.ts'), module, '/v2/bench/img1/manifests/v1', String(opts.n), String(opts.warmup)], { env, timeoutMs: 600_000 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('CPU '));
      if (!line) throw new Error(`no CPU line in the output: ${r.stderr.slice(-500)}`);
      const c = JSON.parse(line.slice(4)) as CpuRun;
      if (Object.keys(c.statuses).some((s) => s !== '200')) throw new Error(`manifest GET answered ${JSON.stringify(c.statuses)}, not only 200`);
      ctx.log(`  handler CPU run #${i + 1}: median ${c.medianUs} us (SDK GetItem alone ${c.floorMedianUs} us, lean GetItem alone ${c.leanFloorMedianUs} us), p10 ${c.p10Us}, p90 ${c.p90Us}, p99 ${c.p99Us}, mean ${c.meanUs.toFixed(0)} us; ${((c.wallMs * 1000) / c.n).toFixed(0)} us wall per request`);
      runs.push(c);
    }
    fact.runs = runs.map((c) => c.medianUs);
    fact.value = median(fact.runs);
    floor.runs = runs.map((c) => c.floorMedianUs);
    floor.value = median(floor.runs);
    leanFloor.runs = runs.map((c) => c.leanFloorMedianUs);
    leanFloor.value = median(leanFloor.runs);
    leanFloor.notes.push(`the handler above it: ${(fact.value - leanFloor.value).toFixed(0)} us (routing, the core, the API Gateway conversion, middy, one log line, two EMF documents in one write)`);
    const m = (f: (c: CpuRun) => number): string => median(runs.map(f)).toFixed(0);
    fact.notes.push(
      `per run: p10 ${m((c) => c.p10Us)} us, p90 ${m((c) => c.p90Us)} us, p99 ${m((c) => c.p99Us)} us, mean ${m((c) => c.meanUs)} us, wall ${m((c) => (c.wallMs * 1000) / c.n)} us per request (medians over runs)`,
      `DynamoDB: ${replay.stats.replayed} requests replayed, ${replay.stats.forwarded} forwarded to DynamoDB Local (the first of each); ${opts.warmup} untimed requests per run first`,
      'not in it: the token check (the authorizer Lambda), the origin-secret check, the Lambda runtime API',
    );
  } catch (e) {
    fact.error = (e as Error).message;
    floor.error = fact.error;
    leanFloor.error = fact.error;
  } finally {
    await replay.close();
  }
  return [fact, floor, leanFloor];
}
