// `npm run bench`: side-by-side benchmark of our local registry against CNCF distribution 2.8
// (Debian's docker-registry), both on loopback, driven by real clients (skopeo, ctr, curl, wrk).
// Prints a table and writes .bench/results.json.
//
// Environment knobs (for developing the harness; the defaults are the real benchmark):
//   BENCH_ONLY=distribution|ours|aws   measure one side only (aws: start:aws, see aws.ts)
//   BENCH_OURS=distribution        use a second distribution instance as "ours" (sanity check: ratios ~1)
//   BENCH_ROWS=push,pull,ctr,put,get,manifest,auth,gc   run a subset (pull/manifest imply push, get implies put)
//   BENCH_GC_MANIFESTS=2000,10000  registry sizes of the GC rows (default 2000: ~2 min here; gc.ts)
//   BENCH_OP_TIMEOUT_MS=180000     limit of one measured command (default 60 s; for a loaded machine)
//   BENCH_QUICK=1                  fewer runs, smaller blobs, shorter wrk (smoke test of the harness)
//   BENCH_CPU_PROF=<dir>           V8 CPU profiles of the handler-CPU runs there (handler-cpu-facts.ts)
//   BENCH_HANDLER_SOURCE=1         the handler-CPU row runs the TypeScript source, not the bundle (readable profiles)
//   BENCH_HANDLER_ENV='{"POWERTOOLS_LOG_LEVEL":"ERROR"}'  extra environment of the handler-CPU runs (A/B of a setting)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeOciImage, toOciArchive, type TestImage } from '../test/support/images.ts';
import { checkAborted, cleanupAll, installSignalHandlers, onCleanup, run, which } from './proc.ts';
import { factVerdict, formatFacts, formatTable, newFact, newRow, ratio, ratioRange, spreadOf, verdict, type Fact, type Row } from './rows.ts';
import { ctrPushPull, ctrPushes, makeRawBlob, rawGet, rawPut, skopeoPull, skopeoPush, type Ctx, type RawBlob } from './scenarios.ts';
import { manifestLoad } from './manifest-load.ts';
import { authFacts } from './auth.ts';
import { putSyncCalls } from './sync-calls.ts';
import { putCeiling } from './put-ceiling.ts';
import { isAws, startAws } from './aws.ts';
import { awsFacts, bundleFacts, cpuRatioFacts, ctrNoEdge, dynamoCeiling, putNoEdge } from './aws-facts.ts';
import { gcCostChild, gcFacts, type GcBench } from './gc.ts';
import { DISTRIBUTION_BIN, startContainerd, startDistribution, startOurs, type Side, type Target } from './servers.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const quick = process.env.BENCH_QUICK === '1';

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

function selectedGroups(): Set<string> {
  const all = ['push', 'pull', 'ctr', 'put', 'get', 'manifest', 'auth', 'gc'];
  const want = new Set((process.env.BENCH_ROWS ?? all.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
  for (const g of want) if (!all.includes(g)) throw new Error(`unknown BENCH_ROWS group "${g}" (known: ${all.join(', ')})`);
  if (want.has('pull') || want.has('manifest')) want.add('push');
  if (want.has('get')) want.add('put');
  return want;
}

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args, { allowFail: true, timeoutMs: 10_000 });
    return (r.stdout || r.stderr).split('\n')[0]!.trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  installSignalHandlers();
  const started = Date.now();
  const groups = selectedGroups();
  const only = process.env.BENCH_ONLY as Side | undefined;
  if (only !== undefined && only !== 'distribution' && only !== 'ours' && only !== 'aws') throw new Error(`BENCH_ONLY must be distribution, ours or aws`);
  const oursIsDistribution = process.env.BENCH_OURS === 'distribution';

  const layerSize = quick ? 5 * MiB : 50 * MiB;
  const rawSize = quick ? 64 * MiB : 512 * MiB;
  // Quick: the fewest runs that still give a spread (3 for wrk, as the full run).
  const n = { push: quick ? 3 : 9, pull: quick ? 3 : 9, ctr: 3, put: quick ? 2 : 3, get: quick ? 3 : 5, wrk: 3 };
  const wrkSeconds = quick ? 2 : 10;

  const tools: Record<string, string | undefined> = {};
  for (const t of ['skopeo', 'ctr', 'containerd', 'curl', 'wrk']) tools[t] = await which(t);
  tools['docker-registry'] = (await which('docker-registry')) ?? ((await which(DISTRIBUTION_BIN)) ? DISTRIBUTION_BIN : undefined);

  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    skopeo: tools.skopeo ? await toolVersion('skopeo', ['--version']) : 'missing',
    containerd: tools.containerd ? await toolVersion('containerd', ['--version']) : 'missing',
    distribution: tools['docker-registry'] ? await toolVersion(DISTRIBUTION_BIN, ['--version']) : 'missing',
    curl: tools.curl ? await toolVersion('curl', ['--version']) : 'missing',
    wrk: tools.wrk ? await toolVersion('wrk', ['-v']) : 'missing',
  };
  const loadStart = loadavg().map((l) => Number(l.toFixed(2)));
  log(`machine: ${machine.nproc} cpus (${machine.cpu}), ${machine.memGiB} GiB, node ${machine.node}, load average ${loadStart.join(' ')}`);
  if (loadStart[0]! > 0.5) log('warning: the machine is busy (1-minute load average > 0.5); figures will be noisy');
  log(`tools: ${machine.skopeo}; ${machine.containerd}; ${machine.distribution}; ${machine.curl}; ${machine.wrk}`);

  const imageMiB = (3 * layerSize) / MiB;
  const rawMiB = rawSize / MiB;
  const rows = {
    push: newRow({ id: 'skopeo_push', label: `skopeo push ${imageMiB} MiB, 3 layers`, unit: 's', better: 'lower', runsWanted: n.push, target: { min: 1, text: 'no slower (>=1.00x)' } }),
    pull: newRow({ id: 'skopeo_pull', label: `skopeo pull ${imageMiB} MiB, 3 layers`, unit: 's', better: 'lower', runsWanted: n.pull, target: { min: 1, text: 'no slower (>=1.00x)' } }),
    ctrPush: newRow({ id: 'ctr_push', label: `ctr push ${imageMiB} MiB, 3 layers`, unit: 's', better: 'lower', runsWanted: n.ctr }),
    ctrPull: newRow({ id: 'ctr_pull', label: `ctr pull (content fetch) ${imageMiB} MiB`, unit: 's', better: 'lower', runsWanted: n.ctr }),
    put: newRow({ id: 'blob_put', label: `blob PUT ${rawMiB} MiB (curl, monolithic)`, unit: 'MiB/s', better: 'higher', runsWanted: n.put, target: { min: 3, text: '>=3x' } }),
    get: newRow({ id: 'blob_get', label: `blob GET ${rawMiB} MiB (curl -L)`, unit: 'MiB/s', better: 'higher', runsWanted: n.get, target: { min: 0.9, text: '>=0.9x' } }),
    rps: newRow({ id: 'manifest_rps', label: `manifest GET by tag, 32 conns, ${wrkSeconds}s`, unit: 'req/s', better: 'higher', runsWanted: n.wrk, target: { min: 3, text: '>=3x' }, awsTarget: { min: 3, text: '>=3x' } }),
    p99: newRow({ id: 'manifest_p99', label: `manifest GET by tag, p99 latency`, unit: 'ms', better: 'lower', runsWanted: n.wrk, target: { min: 1, strict: true, text: 'lower (>1x)' } }),
  };
  const order: Row[] = [rows.push, rows.pull, rows.ctrPush, rows.ctrPull, rows.put, rows.get, rows.rps, rows.p99];
  const skip = (row: Row, why: string): void => {
    row.skipped ??= why;
  };
  const missing = (...names: string[]): string | undefined => {
    const m = names.filter((t) => !tools[t]);
    return m.length > 0 ? `${m.join(', ')} not installed` : undefined;
  };
  if (!groups.has('push')) skip(rows.push, 'not selected (BENCH_ROWS)');
  if (!groups.has('pull')) skip(rows.pull, 'not selected (BENCH_ROWS)');
  if (!groups.has('ctr')) for (const r of [rows.ctrPush, rows.ctrPull]) skip(r, 'not selected (BENCH_ROWS)');
  if (!groups.has('put')) skip(rows.put, 'not selected (BENCH_ROWS)');
  if (!groups.has('get')) skip(rows.get, 'not selected (BENCH_ROWS)');
  if (!groups.has('manifest')) for (const r of [rows.rps, rows.p99]) skip(r, 'not selected (BENCH_ROWS)');
  const noSkopeo = missing('skopeo');
  if (noSkopeo) for (const r of [rows.push, rows.pull, rows.ctrPush, rows.ctrPull, rows.rps, rows.p99]) skip(r, `${noSkopeo} (needed to push/convert the image)`);
  const noCtr = missing('ctr', 'containerd');
  if (noCtr) for (const r of [rows.ctrPush, rows.ctrPull]) skip(r, noCtr);
  const noCurl = missing('curl');
  if (noCurl) for (const r of [rows.put, rows.get, rows.rps, rows.p99]) skip(r, noCurl);
  const noWrk = missing('wrk');
  if (noWrk) for (const r of [rows.rps, rows.p99]) skip(r, `${noWrk} (apt-get install wrk)`);

  const root = await mkdtemp(join(tmpdir(), 'registry-bench-'));
  onCleanup('temp dir', () => rm(root, { recursive: true, force: true }));
  log(`work dir: ${root}`);

  // ---- registries ----
  const targets: Target[] = [];
  const startupErrors: Partial<Record<Side, string>> = {};
  const sides: Side[] = only ? [only] : ['distribution', 'ours', 'aws'];
  for (const side of sides) {
    try {
      const useDistribution = side === 'distribution' || (side === 'ours' && oursIsDistribution);
      if (useDistribution && !tools['docker-registry']) throw new Error(`${DISTRIBUTION_BIN} not installed`);
      const t = side === 'aws' ? await startAws() : useDistribution ? await startDistribution(side, join(root, `registry-${side}`)) : await startOurs();
      if (side === 'ours' && oursIsDistribution) t.impl = 'a second distribution instance (BENCH_OURS=distribution)';
      onCleanup(`${side} registry`, () => t.stop());
      targets.push(t);
      log(`${side}: ${t.impl} at ${t.url}`);
    } catch (e) {
      startupErrors[side] = (e as Error).message;
      log(`${side}: could not start: ${(e as Error).message}`);
    }
  }
  for (const row of order) for (const side of sides) if (startupErrors[side]) row.errors[side] = `registry did not start: ${startupErrors[side]}`;
  // A failed run's whole output lands here; what an earlier run left would mislead.
  await rm(join(repoRoot, '.bench', 'failures'), { recursive: true, force: true });
  const ctx: Ctx = { root, failures: join(repoRoot, '.bench', 'failures'), targets, log, aws: {}, rowsMeasured: 0, warmingUp: false };
  const facts: Fact[] = [];
  let ceiling: Fact[] = [];

  if (targets.length > 0) {
    // ---- skopeo push / pull ----
    let img: TestImage | undefined;
    const needImage = !rows.push.skipped || !rows.ctrPush.skipped;
    checkAborted();
    if (needImage) {
      log(`writing test image (3 x ${layerSize / MiB} MiB uncompressed layers)...`);
      img = await makeOciImage(join(root, 'image'), { layerSizes: [layerSize, layerSize, layerSize] });
    }
    checkAborted();
    if (!rows.push.skipped && img) {
      log('skopeo push...');
      await skopeoPush(ctx, rows.push, img);
    }
    checkAborted();
    if (!rows.pull.skipped) {
      log('skopeo pull...');
      await skopeoPull(ctx, rows.pull, rows.push);
    }

    // ---- ctr ----
    checkAborted();
    if (!rows.ctrPush.skipped && img) {
      log('ctr push / pull...');
      try {
        const archive = await toOciArchive(img, join(root, 'image.oci.tar'), 'v1');
        const cd = await startContainerd(join(root, 'containerd'));
        onCleanup('containerd', () => cd.stop());
        await ctrPushPull(ctx, cd, archive, rows.ctrPush, rows.ctrPull);
        if (targets.some((t) => t.side === 'aws')) facts.push(await ctrNoEdge(ctx, cd, archive, n.ctr, (c, row) => ctrPushes(c, cd, row)));
        await rm(archive, { force: true });
      } catch (e) {
        const msg = `containerd setup failed: ${(e as Error).message}`;
        log(msg);
        for (const r of [rows.ctrPush, rows.ctrPull]) if (r.value.distribution === undefined && r.value.ours === undefined) r.skipped = msg;
      }
    }
    if (img) await rm(img.layoutDir, { recursive: true, force: true });

    // ---- raw blob PUT / GET ----
    checkAborted();
    if (!rows.put.skipped) {
      log(`writing ${rawMiB} MiB random blob...`);
      const blob: RawBlob = await makeRawBlob(join(root, 'raw.bin'), rawSize);
      log('blob PUT...');
      await rawPut(ctx, rows.put, blob);
      if (targets.some((t) => t.side === 'aws')) {
        log('blob PUT, edge fast path off (through ingest)...');
        facts.push(...(await putNoEdge(ctx, rows.put, (c, row) => rawPut(c, row, blob))));
      }
      if (targets.some((t) => t.side === 'ours')) {
        log('blob PUT ceiling (disk with fsync, sha256)...');
        ceiling = await putCeiling(ctx, rows.put, blob, n.put);
      }
      if (await which('strace')) {
        log('blob PUT under strace (sync calls)...');
        await putSyncCalls(ctx, rows.put, blob);
      } else rows.put.notes.push('sync calls not counted: strace not installed');
      if (!rows.get.skipped) {
        log('blob GET...');
        await rawGet(ctx, rows.get, blob, rows.put);
      }
      await rm(blob.file, { force: true });
    }

    // ---- manifest GET under load ----
    checkAborted();
    if (!rows.rps.skipped) {
      log('manifest GET with wrk...');
      await manifestLoad(ctx, rows.rps, rows.p99, rows.push, wrkSeconds);
    }
  }

  // ---- AWS shape alone: bundle, cold start, requests and bytes per push/pull ----
  const aws = targets.find((t) => t.side === 'aws');
  if (aws) {
    checkAborted();
    log('api bundle and cold start...');
    facts.unshift(...(await bundleFacts(ctx, aws, root, quick ? 3 : 7, quick ? { runs: 1, n: 1000, warmup: 200 } : { runs: 3, n: 10_000, warmup: 1000 })));
    facts.push(...cpuRatioFacts([rows.push, rows.put]), ...awsFacts(ctx));
    if (isAws(aws) && !rows.rps.skipped) {
      log('DynamoDB Local ceiling...');
      facts.push(...(await dynamoCeiling(aws, wrkSeconds)));
    }
  }

  // ---- token auth on npm start: verification, token endpoint, manifest GET auth on vs off ----
  let auth: Fact[] = [];
  if (groups.has('auth') && only !== 'distribution' && only !== 'aws') {
    checkAborted();
    if (noWrk) log(`auth: skipped (${noWrk})`);
    else {
      log('auth: token verification...');
      try {
        auth = await authFacts(log, { runs: quick ? 1 : 3, wrkSeconds, tokenSeconds: quick ? 2 : 5 });
      } catch (e) {
        auth = [{ ...newFact({ id: 'auth', label: 'token auth', unit: '-' }), error: (e as Error).message }];
      }
    }
  }

  // ---- GC cost on DynamoDB Local + s3rver (no side-by-side) ----
  if (groups.has('gc') && (only === undefined || only === 'aws')) {
    const sizes = (process.env.BENCH_GC_MANIFESTS ?? (quick ? '500' : '2000')).split(',').map(Number);
    const results: GcBench[] = [];
    for (const size of sizes) {
      checkAborted();
      log(`GC cost over ${size} manifests...`);
      try {
        results.push(await gcCostChild(size, log));
      } catch (e) {
        log(`GC bench over ${size} manifests failed: ${(e as Error).message}`);
      }
    }
    facts.push(...gcFacts(results));
  }

  const seconds = (Date.now() - started) / 1000;
  const table = `${formatTable(order)}${ceiling.length > 0 ? `\n\n${formatFacts(ceiling, 'Blob PUT ceiling (this machine, this run)')}` : ''}${facts.length > 0 ? `\n\n${formatFacts(facts)}` : ''}${auth.length > 0 ? `\n\n${formatFacts(auth, 'Token auth (npm start)')}` : ''}`;
  const title = only ? `(BENCH_ONLY=${only}: one side only)` : oursIsDistribution ? '(BENCH_OURS=distribution: "ours" is a second distribution)' : '';
  console.log('');
  console.log(`Machine: nproc=${machine.nproc} (${machine.cpu}), ${machine.memGiB} GiB RAM, node ${machine.node}`);
  console.log(`Clients: ${machine.skopeo}; ${machine.containerd}; ${machine.curl.split(' ').slice(0, 2).join(' ')}; ${machine.wrk.split(' ').slice(0, 2).join(' ')}`);
  console.log(`Reference: ${machine.distribution}`);
  const loadEnd = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`Registries on 127.0.0.1, data in ${tmpdir()}; total ${seconds.toFixed(0)} s ${title}`);
  console.log(`Load average (1/5/15 min): at start ${loadStart.join(' ')}, at end ${loadEnd.join(' ')}${loadStart[0]! > 0.5 ? '  (busy machine: figures are noisy)' : ''}`);
  console.log('');
  console.log(table);
  console.log('');

  const outDir = join(repoRoot, '.bench');
  await mkdir(outDir, { recursive: true });
  const results = {
    date: new Date(started).toISOString(),
    seconds,
    machine,
    loadAverage: { start: loadStart, end: loadEnd },
    options: { only: only ?? null, oursIsDistribution, quick, groups: [...groups] },
    registries: Object.fromEntries(targets.map((t) => [t.side, { impl: t.impl, url: t.url }])),
    startupErrors,
    rows: order.map((r) => ({
      id: r.id,
      label: r.label,
      unit: r.unit,
      better: r.better,
      runs: r.runs,
      serverCpuSeconds: r.cpu,
      median: r.value,
      spread: Object.fromEntries((['distribution', 'ours', 'aws'] as const).map((side) => [side, spreadOf(r, side) ?? null])),
      ratio: ratio(r) ?? null,
      ratioRange: ratioRange(r) ?? null,
      awsRatioRange: ratioRange(r, 'aws') ?? null,
      awsRatio: ratio(r, 'aws') ?? null,
      awsTarget: r.awsTarget ?? null,
      awsResult: r.skipped !== undefined ? 'skipped' : verdict(r, 'aws'),
      ratioMeaning: '>1 means ours is better; ratioRange: worst and best pairing of runs',
      target: r.target ?? null,
      result: r.skipped !== undefined ? 'skipped' : verdict(r),
      skipped: r.skipped ?? null,
      errors: r.errors,
      notes: r.notes,
    })),
    ceiling: ceiling.map((f) => ({ ...f, result: factVerdict(f) })),
    aws: facts.map((f) => ({ ...f, result: factVerdict(f) })),
    auth: auth.map((f) => ({ ...f, result: factVerdict(f) })),
    awsRequests: ctx.aws,
  };
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Results written to ${join(outDir, 'results.json')}`);
  // Keep the last run's table next to it, handy for reports.
  await writeFile(join(outDir, 'results.txt'), `${table}\n`);
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
  exitCode = 1;
} finally {
  await cleanupAll();
}
process.exit(exitCode);
