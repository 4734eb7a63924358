// The measurements. Each takes the running targets and fills one or more rows. Runs alternate the
// order of the two registries (A B, B A, ...) so that warm-up and page-cache effects even out.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TestImage } from '../test/support/images.ts';
import { checkAborted, cpuSeconds, run, type RunResult } from './proc.ts';

/** Limit for one measured command: far above a healthy run, low enough to keep the bench bounded. */
const OP_TIMEOUT_MS = 60_000;
import { median, type Row } from './rows.ts';
import type { Containerd, Side, Target } from './servers.ts';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../test/support/oci.ts';
import { isAws, type AwsRequests } from './aws.ts';

export interface Ctx {
  /** The run's work dir (removed at the end). */
  root: string;
  /** Where the whole output of a failed run is kept (in the checkout, kept after the run). */
  failures: string;
  targets: Target[];
  log(msg: string): void;
  /** AWS requests and body bytes per measured operation of the aws side, by scenario (e.g. `skopeo push`). */
  aws: Record<string, AwsRun[]>;
}

export interface AwsRun {
  requests: AwsRequests;
  /** Request body bytes through compute (API handler + ingest) and straight into S3 (edge). */
  bytes: { compute: number; s3: number };
}

/** Runs `work`; on the aws side, records the AWS requests and body bytes it caused under `scenario`. */
async function counted<T>(ctx: Ctx, scenario: string, t: Target, work: () => Promise<T>): Promise<T> {
  if (!isAws(t)) return work();
  await t.aws.reset();
  const before = t.aws.bytes();
  const out = await work();
  const requests = await t.aws.read();
  const after = t.aws.bytes();
  (ctx.aws[scenario] ??= []).push({ requests, bytes: { compute: after.compute - before.compute, s3: after.s3 - before.s3 } });
  return out;
}

const MiB = 1024 * 1024;

/** Writes a failed run's whole output to .bench/failures/ and returns the file's path. */
async function keepFailure(ctx: Ctx, name: string, text: string): Promise<string> {
  await mkdir(ctx.failures, { recursive: true });
  const file = join(ctx.failures, `${name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.txt`);
  await writeFile(file, text);
  return relative(process.cwd(), file);
}

/** Runs `fn` n times per target, alternating order; records seconds/figures and the median. */
async function measure(ctx: Ctx, row: Row, n: number, fn: (t: Target, i: number) => Promise<number>): Promise<void> {
  const failed = new Set<Side>();
  for (let i = 1; i <= n; i++) {
    const order = i % 2 === 1 ? ctx.targets : [...ctx.targets].reverse();
    for (const t of order) {
      checkAborted();
      if (failed.has(t.side)) continue;
      try {
        const cpu0 = await cpuSeconds(t.pid);
        const v = await fn(t, i);
        const cpu1 = await cpuSeconds(t.pid);
        (row.runs[t.side] ??= []).push(v);
        if (cpu0 !== undefined && cpu1 !== undefined) (row.cpu[t.side] ??= []).push(cpu1 - cpu0);
        ctx.log(`  ${row.label} #${i} ${t.side}: ${v.toFixed(3)} ${row.unit}`);
      } catch (e) {
        failed.add(t.side);
        const tail = t.logs.slice(-20).join('\n');
        // The client's own last lines are in the message (CommandError); all of it goes to a file.
        const result = (e as { result?: RunResult }).result;
        const file = await keepFailure(ctx, `${row.label} ${t.side} ${i}`, [(e as Error).message, result ? `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}` : '', tail ? `--- last server log lines\n${tail}` : ''].join('\n'));
        row.errors[t.side] = `${(e as Error).message}${tail ? `\nlast server log lines:\n${t.logs.slice(-5).join('\n')}` : ''}\n(whole output: ${file})`;
        ctx.log(`  ${row.label} #${i} ${t.side}: FAILED ${(e as Error).message.split('\n').slice(0, 16).join('\n    ')}\n    whole output: ${file}`);
      }
    }
  }
  for (const t of ctx.targets) {
    const runs = row.runs[t.side];
    if (runs !== undefined && runs.length > 0 && !failed.has(t.side)) row.value[t.side] = median(runs);
  }
}

// ---- skopeo ----

/** skopeo's blob-info cache (root: /var/lib/containers/cache; rootless: XDG data dir). */
const BLOB_INFO_CACHES = [
  '/var/lib/containers/cache/blob-info-cache-v1.boltdb',
  join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'containers', 'cache', 'blob-info-cache-v1.boltdb'),
];

async function dropSkopeoCache(): Promise<void> {
  for (const f of BLOB_INFO_CACHES) await rm(f, { force: true });
}

export function imageRef(t: Target, i: number): string {
  return `${t.host}/bench/img${i}:v${i}`;
}

/** skopeo push of the image to bench/img<i>:v<i> (fresh repo and tag each run). */
export async function skopeoPush(ctx: Ctx, row: Row, img: TestImage): Promise<void> {
  await measure(ctx, row, row.runsWanted, async (t, i) => {
    await dropSkopeoCache();
    const r = await counted(ctx, 'skopeo push', t, () => run('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${img.layoutDir}:${img.tag}`,
      `docker://${imageRef(t, i)}`,
    ], { timeoutMs: OP_TIMEOUT_MS }));
    if (i === 1) await noteLayers(row, t);
    return r.seconds;
  });
}

/** Records what skopeo actually stored (it gzips uncompressed layers when pushing). */
async function noteLayers(row: Row, t: Target): Promise<void> {
  try {
    const res = await fetch(`${t.url}/v2/bench/img1/manifests/v1`, {
      signal: AbortSignal.timeout(10_000),
      headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` },
    });
    const m = (await res.json()) as { mediaType?: string; layers?: { mediaType: string; size: number }[] };
    const layers = (m.layers ?? []).map((l) => `${l.mediaType.split('.').pop()} ${(l.size / MiB).toFixed(1)} MiB`);
    const note = `manifest stored as ${m.mediaType ?? res.headers.get('content-type')}, layers: ${layers.join(', ')}`;
    if (!row.notes.includes(`${t.side}: ${note}`)) row.notes.push(`${t.side}: ${note}`);
  } catch (e) {
    row.notes.push(`${t.side}: could not read back bench/img1:v1: ${(e as Error).message}`);
  }
}

/** skopeo pull of bench/img<i>:v<i> into a fresh oci: layout. Needs skopeoPush first. */
export async function skopeoPull(ctx: Ctx, row: Row, pushed: Row): Promise<void> {
  await measure(ctx, row, row.runsWanted, async (t, i) => {
    if ((pushed.runs[t.side]?.length ?? 0) < i) throw new Error(`push #${i} did not succeed`);
    await dropSkopeoCache();
    const dest = join(ctx.root, `pull-${t.side}-${i}`);
    try {
      const r = await counted(ctx, 'skopeo pull', t, () => run('skopeo', [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        // keep layers as they are in the registry (skopeo would gzip uncompressed ones for oci:)
        '--dest-oci-accept-uncompressed-layers',
        `docker://${imageRef(t, i)}`,
        `oci:${dest}:v1`,
      ], { timeoutMs: OP_TIMEOUT_MS }));
      return r.seconds;
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  });
}

// ---- containerd ----

async function contentCount(cd: Containerd): Promise<number> {
  const r = await cd.ctr(['content', 'ls', '-q']);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

async function removeAllImages(cd: Containerd): Promise<void> {
  const names = (await cd.ctr(['images', 'ls', '-q'])).stdout.split('\n').filter((l) => l.trim() !== '');
  if (names.length > 0) await cd.ctr(['images', 'rm', '--sync', ...names]);
}

/**
 * ctr push of the imported image to bench/ctr<i>:v<i>, then (after removing every image and its
 * content from containerd) `ctr content fetch` of each pushed ref, removing the content again
 * after each run so every fetch transfers all blobs.
 */
export async function ctrPushPull(ctx: Ctx, cd: Containerd, archive: string, push: Row, pull: Row): Promise<void> {
  const base = 'localhost/bench/import';
  await cd.ctr(['images', 'import', '--no-unpack', '--base-name', base, archive]);
  await ctrPushes(ctx, cd, push);
  await ctrPulls(ctx, cd, push, pull);
}

const ctrRef = (t: Target, i: number): string => `${t.host}/bench/ctr${i}:v${i}`;

/** ctr push of the imported image to bench/ctr<i>:v<i> on each target (ctx.targets), `row.runsWanted` times. */
export async function ctrPushes(ctx: Ctx, cd: Containerd, push: Row): Promise<void> {
  const source = 'localhost/bench/import:v1';
  const ref = ctrRef;
  await measure(ctx, push, push.runsWanted, async (t, i) => {
    await cd.ctr(['images', 'tag', '--force', source, ref(t, i)]);
    return (await counted(ctx, isAws(t) && t.impl.includes('no edge') ? 'ctr push (no edge)' : 'ctr push', t, () => cd.ctr(['images', 'push', '--plain-http', ref(t, i)], { timeoutMs: OP_TIMEOUT_MS }))).seconds;
  });
}

async function ctrPulls(ctx: Ctx, cd: Containerd, push: Row, pull: Row): Promise<void> {
  const ref = ctrRef;
  await removeAllImages(cd);
  const left = await contentCount(cd);
  if (left !== 0) pull.notes.push(`${left} blobs stayed in containerd's content store after removing all images`);
  await measure(ctx, pull, pull.runsWanted, async (t, i) => {
    if ((push.runs[t.side]?.length ?? 0) < i) throw new Error(`push #${i} did not succeed`);
    // Both registries serve the same digests: containerd must hold none of them before a fetch.
    const before = await contentCount(cd);
    if (before !== 0) throw new Error(`content store holds ${before} blobs before the fetch; it would not transfer them`);
    try {
      return (await counted(ctx, 'ctr pull', t, () => cd.ctr(['content', 'fetch', '--plain-http', ref(t, i)], { timeoutMs: OP_TIMEOUT_MS }))).seconds;
    } finally {
      await removeAllImages(cd);
    }
  });
}

// ---- raw blob PUT / GET ----

export interface RawBlob {
  file: string;
  digest: string;
  size: number;
}

/** Writes `size` random bytes to `file` in 1 MiB chunks, hashing as it goes. */
export async function makeRawBlob(file: string, size: number): Promise<RawBlob> {
  const hash = createHash('sha256');
  const cipher = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  const zeros = Buffer.alloc(MiB);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let left = size; left > 0; left -= MiB) {
      const c = cipher.update(left >= MiB ? zeros : zeros.subarray(0, left));
      hash.update(c);
      yield c;
    }
  }
  await pipeline(chunks(), createWriteStream(file));
  return { file, digest: `sha256:${hash.digest('hex')}`, size };
}

/** Appends a query parameter to a Location (absolute or relative, with or without a query). */
export function withParam(base: string, location: string, name: string, value: string): string {
  const abs = new URL(location, base).href; // only resolves; keeps the query string as sent
  return `${abs}${abs.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

async function startUpload(t: Target, repo: string): Promise<string> {
  const res = await fetch(`${t.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  const loc = res.headers.get('location');
  if (res.status !== 202 || loc === null) throw new Error(`POST upload answered ${res.status}, Location ${loc}`);
  return loc;
}

/** Monolithic PUT of the whole blob (as containerd does) to bench/raw<i>; returns MiB/s. */
export async function rawPut(ctx: Ctx, row: Row, blob: RawBlob): Promise<void> {
  await measure(ctx, row, row.runsWanted, async (t, i) => {
    // Flush what earlier runs (of either registry) left dirty in the page cache, so background
    // writeback of one run's 512 MiB does not compete for the disk with the next timed run.
    await run('sync', [], { timeoutMs: OP_TIMEOUT_MS });
    const loc = await startUpload(t, `bench/raw${i}`);
    const url = withParam(t.url, loc, 'digest', blob.digest);
    const r = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{time_total}',
      '-X',
      'PUT',
      '-H',
      'Content-Type: application/octet-stream',
      '-H',
      'Expect:', // no 100-continue round trip; Go clients do not send it either
      '-T',
      blob.file,
      url,
    ], { timeoutMs: OP_TIMEOUT_MS });
    const [code, time] = r.stdout.trim().split(' ');
    if (code !== '201') throw new Error(`PUT answered ${code}`);
    return blob.size / MiB / Number(time);
  });
}

/** GET of the blob from bench/raw1 (following a redirect); returns MiB/s. Needs rawPut first. */
export async function rawGet(ctx: Ctx, row: Row, blob: RawBlob, put: Row): Promise<void> {
  await measure(ctx, row, row.runsWanted, async (t) => {
    if ((put.runs[t.side]?.length ?? 0) < 1) throw new Error('no blob was uploaded');
    const r = await run('curl', [
      '-sS',
      '-L',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{time_total} %{size_download}',
      `${t.url}/v2/bench/raw1/blobs/${blob.digest}`,
    ], { timeoutMs: OP_TIMEOUT_MS });
    const [code, time, size] = r.stdout.trim().split(' ');
    if (code !== '200') throw new Error(`GET answered ${code}`);
    if (Number(size) !== blob.size) throw new Error(`GET downloaded ${size} bytes, want ${blob.size}`);
    return blob.size / MiB / Number(time);
  });
}

// ---- manifest GET under load ----

export interface WrkResult {
  rps: number;
  p99ms: number;
  requests: number;
  non2xx: number;
  socketErrors: string | undefined;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p99 = /^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  if (!rps || !p99) throw new Error(`cannot parse wrk output:\n${out}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[p99[2] as 'us' | 'ms' | 's' | 'm'];
  const requests = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors:\s*(.+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p99ms: Number(p99[1]) * scale,
    requests: requests ? Number(requests[1]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock?.[1]?.trim(),
  };
}


/** wrk against GET /v2/bench/img1/manifests/v1 (pushed by skopeoPush run 1). */
export async function manifestLoad(ctx: Ctx, rps: Row, p99: Row, pushed: Row, seconds: number): Promise<void> {
  for (const t of ctx.targets) {
    try {
      if ((pushed.runs[t.side]?.length ?? 0) < 1) throw new Error('bench/img1:v1 was not pushed');
      const url = `${t.url}/v2/bench/img1/manifests/v1`;
      const probe = await run('curl', ['-sS', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Accept: ${OCI_MANIFEST}`, url]);
      if (probe.stdout.trim() !== '200') throw new Error(`manifest GET answered ${probe.stdout.trim()}`);
      const wrk = (d: number): ReturnType<typeof run> =>
        run('wrk', ['-t2', '-c32', `-d${d}s`, '--latency', '-H', `Accept: ${OCI_MANIFEST}`, url], { timeoutMs: (d + 30) * 1000 });
      await wrk(2); // warm-up (caches, JIT), not counted
      const cpu0 = await cpuSeconds(t.pid);
      const r = await wrk(seconds);
      const cpu1 = await cpuSeconds(t.pid);
      const w = parseWrk(r.stdout);
      if (cpu0 !== undefined && cpu1 !== undefined && w.requests > 0) {
        rps.notes.push(`${t.side}: server CPU ${(((cpu1 - cpu0) / w.requests) * 1e6).toFixed(0)} us per request`);
      }
      rps.runs[t.side] = [w.rps];
      rps.value[t.side] = w.rps;
      p99.runs[t.side] = [w.p99ms];
      p99.value[t.side] = w.p99ms;
      if (w.non2xx > 0) rps.notes.push(`${t.side}: ${w.non2xx} of ${w.requests} responses were not 2xx/3xx`);
      if (w.socketErrors) rps.notes.push(`${t.side}: socket errors: ${w.socketErrors}`);
      ctx.log(`  manifest GET ${t.side}: ${w.rps.toFixed(0)} req/s, p99 ${w.p99ms.toFixed(2)} ms (${w.requests} requests)`);
    } catch (e) {
      rps.errors[t.side] = (e as Error).message;
      p99.errors[t.side] = (e as Error).message;
      ctx.log(`  manifest GET ${t.side}: FAILED ${(e as Error).message.split('\n')[0]}`);
    }
  }
}
