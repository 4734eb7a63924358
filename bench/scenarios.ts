// The measurements. Each takes the running targets and fills one or more rows. Runs alternate the
// order of the two registries (A B, B A, ...) so that warm-up and page-cache effects even out.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TestImage } from '../test/support/images.ts';
import { checkAborted, cpuOfAll, cpuSeconds, run, type RunResult } from './proc.ts';

/**
 * Limit for one measured command: far above a healthy run, low enough to keep the bench bounded.
 * BENCH_OP_TIMEOUT_MS raises it on a machine loaded by other work (a skopeo push through start:aws
 * took over 60 s at a load average of 50).
 */
const OP_TIMEOUT_MS = Number(process.env.BENCH_OP_TIMEOUT_MS ?? 60_000);
import { median, type Row } from './rows.ts';
import type { Containerd, Side, Target } from './servers.ts';
import { DOCKER_MANIFEST, OCI_MANIFEST } from '../test/support/oci.ts';
import { isAws, type AwsRequests, type BytesThroughCompute } from './aws.ts';

export interface Ctx {
  /** The run's work dir (removed at the end). */
  root: string;
  /** Where the whole output of a failed run is kept (in the checkout, kept after the run). */
  failures: string;
  targets: Target[];
  log(msg: string): void;
  /** AWS requests and body bytes per measured operation of the aws side, by scenario (e.g. `skopeo push`). */
  aws: Record<string, AwsRun[]>;
  /** Rows measured so far: each row starts with another registry (see `orderOf`). */
  rowsMeasured: number;
  /** Set during the untimed warm-up runs, which are not recorded anywhere. */
  warmingUp: boolean;
}

/**
 * The order of the registries for run `i` of row number `row`: rotated by one at each run and at
 * each row, so that every registry goes first equally often (with two, they alternate), also across
 * rows that have a single run.
 */
export function orderOf<T>(targets: T[], row: number, i: number): T[] {
  const k = targets.length === 0 ? 0 : (row + i) % targets.length;
  return [...targets.slice(k), ...targets.slice(0, k)];
}

export interface AwsRun {
  requests: AwsRequests;
  /** Body bytes counted inside the API handler and ingest, and straight into S3 (edge). */
  bytes: BytesThroughCompute;
}

/** Runs `work`; on the aws side, records the AWS requests and body bytes it caused under `scenario`. */
async function counted<T>(ctx: Ctx, scenario: string, t: Target, work: () => Promise<T>): Promise<T> {
  if (!isAws(t) || ctx.warmingUp) return work();
  await t.aws.reset();
  const edgeFrom = t.aws.edgeBytes();
  const out = await work();
  const requests = await t.aws.read();
  (ctx.aws[scenario] ??= []).push({ requests, bytes: await t.aws.bytes(edgeFrom) });
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

/**
 * Runs `fn` once per target untimed (run 0, the warm-up: caches, JIT, connections), then n times per
 * target, the order rotating at each run (`orderOf`); records each run's figure and server CPU, and
 * the median. A target whose warm-up or run fails has no figure.
 */
export async function measure(ctx: Ctx, row: Row, n: number, fn: (t: Target, i: number) => Promise<number>): Promise<void> {
  const failed = new Set<Side>();
  const rowNumber = ctx.rowsMeasured++;
  for (let i = 0; i <= n; i++) {
    ctx.warmingUp = i === 0;
    for (const t of orderOf(ctx.targets, rowNumber, i)) {
      checkAborted();
      if (failed.has(t.side)) continue;
      if (i === 0) {
        try {
          await fn(t, 0);
          ctx.log(`  ${row.label} warm-up ${t.side}: done`);
        } catch (e) {
          failed.add(t.side);
          row.errors[t.side] = `warm-up run failed: ${(e as Error).message}`;
          ctx.log(`  ${row.label} warm-up ${t.side}: FAILED ${(e as Error).message.split('\n')[0]}`);
        }
        continue;
      }
      try {
        const more = t.morePids?.() ?? [];
        const cpu0 = await cpuSeconds(t.pid);
        const more0 = await cpuOfAll(more);
        const v = await fn(t, i);
        const cpu1 = await cpuSeconds(t.pid);
        const more1 = await cpuOfAll(more);
        (row.runs[t.side] ??= []).push(v);
        if (cpu0 !== undefined && cpu1 !== undefined && more0 !== undefined && more1 !== undefined) {
          (row.cpu[t.side] ??= []).push(cpu1 - cpu0 + (more1 - more0));
          if (more.length > 0) (row.cpuMore[t.side] ??= []).push(more1 - more0);
        }
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
  ctx.warmingUp = false;
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

async function startUpload(t: Pick<Target, 'url'>, repo: string): Promise<string> {
  const res = await fetch(`${t.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  const loc = res.headers.get('location');
  if (res.status !== 202 || loc === null) throw new Error(`POST upload answered ${res.status}, Location ${loc}`);
  return loc;
}

/** Monolithic PUT of the whole blob (as containerd does) to `repo` with curl; returns the seconds it took. */
export async function curlPut(t: Pick<Target, 'url'>, repo: string, blob: RawBlob): Promise<number> {
  const loc = await startUpload(t, repo);
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
  return Number(time);
}

/** Monolithic PUT of the whole blob (as containerd does) to bench/raw<i>; returns MiB/s. */
export async function rawPut(ctx: Ctx, row: Row, blob: RawBlob): Promise<void> {
  await measure(ctx, row, row.runsWanted, async (t, i) => {
    // Flush what earlier runs (of either registry) left dirty in the page cache, so background
    // writeback of one run's 512 MiB does not compete for the disk with the next timed run.
    await run('sync', [], { timeoutMs: OP_TIMEOUT_MS });
    return blob.size / MiB / (await curlPut(t, `bench/raw${i}`, blob));
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
