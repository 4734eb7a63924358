// The API handler's CPU per manifest GET by tag, emulator excluded (handler-cpu.ts in a fresh
// process): DynamoDB mocked at the wire inside that process (memory-wire.ts, answers recorded from
// DynamoDB Local by dynamo-replay.ts), and the same over a loopback socket to the replay server;
// logging at INFO and EMF metrics on as deployed. Not in it: the token check (the API Gateway authorizer is its own Lambda in AWS; start:aws
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
  outputFloorMedianUs: number;
  sysMeanUs: number;
  memoryWire?: { memory: number; forwarded: number };
  statuses: Record<string, number>;
}

type Wire = 'socket' | 'memory';

/** One fresh process per run and wire; throws unless every timed request answered 200. */
async function cpuRun(bundle: string, env: Record<string, string>, wire: Wire, opts: { n: number; warmup: number }): Promise<CpuRun> {
  // BENCH_CPU_PROF=<dir>: also write a V8 CPU profile of each run there (to find where the time goes).
  // With BENCH_HANDLER_SOURCE=1 it runs the handler's TypeScript source instead of the bundle (readable names).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const module = process.env.BENCH_HANDLER_SOURCE === '1' ? join(here, '..', 'functions', 'apps', 'api-lambda', 'index.ts') : bundle;
  const r = await run(process.execPath, [...prof, join(here, 'handler-cpu.ts'), module, '/v2/bench/img1/manifests/v1', String(opts.n), String(opts.warmup), wire], { env, timeoutMs: 600_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('CPU '));
  if (!line) throw new Error(`no CPU line in the output: ${r.stderr.slice(-500)}`);
  const c = JSON.parse(line.slice(4)) as CpuRun;
  if (Object.keys(c.statuses).some((s) => s !== '200')) throw new Error(`manifest GET answered ${JSON.stringify(c.statuses)}, not only 200`);
  return c;
}

export async function handlerCpuFacts(ctx: Ctx, bundle: string, awsEnv: Record<string, string>, opts: { runs: number; n: number; warmup: number }): Promise<Fact[]> {
  const fact = newFact({
    id: 'api_handler_cpu_manifest_get',
    label: `api handler CPU per manifest GET by tag (median of ${opts.n} requests per run; DynamoDB mocked at the wire in-process, INFO logs + metrics)`,
    unit: 'us',
    target: { max: 250, text: '<= 250 us' },
  });
  const socket = newFact({
    id: 'api_handler_cpu_manifest_get_socket',
    label: 'the same over a loopback socket to the replay server (its kernel receive work counted here too)',
    unit: 'us',
  });
  const floor = newFact({
    id: 'sdk_getitem_cpu_floor',
    label: 'the same GetItem alone with the SDK client, interleaved, in-process wire (the floor of a handler on the SDK)',
    unit: 'us',
  });
  const leanFloor = newFact({
    id: 'lean_getitem_cpu_floor',
    label: 'the same GetItem alone with the lean client the handler reads with (adapters/dynamodb/get-item-client.ts), interleaved, in-process wire',
    unit: 'us',
  });
  const outputFloor = newFact({
    id: 'lean_getitem_output_cpu_floor',
    label: 'that GetItem plus the output a pull must leave (request line, audit pull line, metric document; Powertools, one write), interleaved, in-process wire',
    unit: 'us',
  });
  const all = [fact, socket, floor, leanFloor, outputFloor];
  const endpoint = awsEnv.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) {
    fact.error = 'no DynamoDB endpoint in the start:aws environment';
    return [fact];
  }
  const replay = await startDynamoReplay(endpoint);
  try {
    const env = { ...awsEnv, AWS_ENDPOINT_URL_DYNAMODB: replay.url, POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_SERVICE_NAME: 'registry-api', ...JSON.parse(process.env.BENCH_HANDLER_ENV ?? '{}') };
    const runs: CpuRun[] = [];
    const socketRuns: CpuRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      for (const wire of ['memory', 'socket'] as const) {
        const c = await cpuRun(bundle, env, wire, opts);
        ctx.log(`  handler CPU run #${i + 1} (${wire} wire): median ${c.medianUs} us, kernel ${c.sysMeanUs.toFixed(0)} us on average (SDK GetItem alone ${c.floorMedianUs} us, lean GetItem alone ${c.leanFloorMedianUs} us, with the output ${c.outputFloorMedianUs} us), p10 ${c.p10Us}, p90 ${c.p90Us}, p99 ${c.p99Us}, mean ${c.meanUs.toFixed(0)} us; ${((c.wallMs * 1000) / c.n).toFixed(0)} us wall per request${c.memoryWire ? `; ${c.memoryWire.memory} answered in memory, ${c.memoryWire.forwarded} over the socket` : ''}`);
        (wire === 'memory' ? runs : socketRuns).push(c);
      }
    }
    const m = (rs: CpuRun[], f: (c: CpuRun) => number): string => median(rs.map(f)).toFixed(0);
    fact.runs = runs.map((c) => c.medianUs);
    fact.value = median(fact.runs);
    socket.runs = socketRuns.map((c) => c.medianUs);
    socket.value = median(socket.runs);
    floor.runs = runs.map((c) => c.floorMedianUs);
    floor.value = median(floor.runs);
    leanFloor.runs = runs.map((c) => c.leanFloorMedianUs);
    leanFloor.value = median(leanFloor.runs);
    leanFloor.notes.push(`the handler above it: ${(fact.value - leanFloor.value).toFixed(0)} us (routing, the core, the API Gateway conversion, middy, the audit pull line, the request line and the EMF document, all in one write)`);
    outputFloor.runs = runs.map((c) => c.outputFloorMedianUs);
    outputFloor.value = median(outputFloor.runs);
    outputFloor.notes.push(
      `the output alone: ${(outputFloor.value - leanFloor.value).toFixed(0)} us above the lean GetItem; the handler above this floor: ${(fact.value - outputFloor.value).toFixed(0)} us (routing, the core, the API Gateway event conversion, middy); over the socket: ${m(socketRuns, (c) => c.outputFloorMedianUs)} us`,
    );
    socket.notes.push(
      `kernel time ${m(socketRuns, (c) => c.sysMeanUs)} us per request on average (in-process wire: ${m(runs, (c) => c.sysMeanUs)} us): on loopback the sender's send() also runs the receiver's TCP work; lean GetItem alone over the socket ${m(socketRuns, (c) => c.leanFloorMedianUs)} us, SDK GetItem ${m(socketRuns, (c) => c.floorMedianUs)} us`,
    );
    fact.notes.push(
      `per run: p10 ${m(runs, (c) => c.p10Us)} us, p90 ${m(runs, (c) => c.p90Us)} us, p99 ${m(runs, (c) => c.p99Us)} us, mean ${m(runs, (c) => c.meanUs)} us, wall ${m(runs, (c) => (c.wallMs * 1000) / c.n)} us per request (medians over runs)`,
      `the wire: each HTTP request is written whole and its answer parsed from bytes by node:http in the measured process, over an in-memory stream (bench/memory-wire.ts); answers recorded from DynamoDB Local through the replay server (${replay.stats.forwarded} forwarded there, ${replay.stats.replayed} replayed over its socket); ${opts.warmup} untimed requests per run first`,
      'not in it: the token check (the authorizer Lambda), the origin-secret check, the Lambda runtime API',
    );
  } catch (e) {
    for (const f of all) f.error = (e as Error).message;
  } finally {
    await replay.close();
  }
  return all;
}
