// The ceiling of a blob PUT on this machine, measured in the same run as the PUT row: the disk
// (dd of the same blob file into the bench's work dir, conv=fsync, as the registry syncs before it
// answers) and sha256 (openssl dgst of the same file, from the page cache). A registry that hashes
// and writes every byte and syncs before answering cannot beat the lower of the two; npm start's
// PUT is reported as a fraction of it. Beside it, the least a Node server can do with the same curl
// (bench/bare-put-server.ts: hash, write, fsync, nothing else; writing synchronously, and overlapped
// as npm start does) as the same fraction: where Node, curl and the kernel sharing this machine's
// cores leave any server.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, run, spawnServer, waitFor } from './proc.ts';
import { median, newFact, type Fact, type Row } from './rows.ts';
import { curlPut, type Ctx, type RawBlob } from './scenarios.ts';

const MiB = 1024 * 1024;
const TIMEOUT_MS = 300_000;

export async function putCeiling(ctx: Ctx, put: Row, blob: RawBlob, runs: number): Promise<Fact[]> {
  const disk = newFact({ id: 'disk_write_fsync', label: `disk: dd of the ${blob.size / MiB} MiB blob file into the work dir, conv=fsync`, unit: 'MiB/s' });
  const hash = newFact({ id: 'sha256_openssl', label: `sha256: openssl dgst -sha256 of the ${blob.size / MiB} MiB blob file (page cache)`, unit: 'MiB/s' });
  const share = newFact({ id: 'blob_put_vs_ceiling', label: 'npm start blob PUT / min(disk, sha256) of this run', unit: 'x', target: { min: 0.5, text: '>= 0.5' } });
  const bare = newFact({ id: 'bare_node_put_vs_ceiling', label: 'a bare node:http PUT (hash, write synchronously, fsync: bench/bare-put-server.ts) / min(disk, sha256), same curl', unit: 'x' });
  const overlapped = newFact({ id: 'bare_node_put_overlapped_vs_ceiling', label: 'the bare PUT with writes overlapped (thread pool, datasync every 32 MiB) / min(disk, sha256), same curl', unit: 'x' });
  try {
    const target = join(ctx.root, 'ceiling.bin');
    disk.runs = [];
    hash.runs = [];
    for (let i = 0; i < runs; i++) {
      await run('sync', [], { timeoutMs: TIMEOUT_MS });
      const d = await run('dd', [`if=${blob.file}`, `of=${target}`, 'bs=4M', 'conv=fsync', 'status=none'], { timeoutMs: TIMEOUT_MS });
      disk.runs.push(blob.size / MiB / d.seconds);
      await rm(target, { force: true });
      const h = await run('openssl', ['dgst', '-sha256', blob.file], { timeoutMs: TIMEOUT_MS });
      if (!h.stdout.includes(blob.digest.slice('sha256:'.length))) throw new Error(`openssl printed another digest: ${h.stdout.trim()}`);
      hash.runs.push(blob.size / MiB / h.seconds);
    }
    disk.value = median(disk.runs);
    hash.value = median(hash.runs);
    const ceiling = Math.min(disk.value, hash.value);
    const ours = put.runs.ours ?? [];
    if (ours.length === 0) throw new Error('no npm start PUT was measured in this run');
    share.runs = ours.map((v) => v / ceiling);
    share.value = median(share.runs);
    share.notes.push(`npm start PUT ${median(ours).toFixed(0)} MiB/s against a ceiling of ${ceiling.toFixed(0)} MiB/s (${disk.value < hash.value ? 'the disk' : 'sha256'}); each timed as one process, start included`);
    ctx.log(`  ceiling: disk ${disk.value.toFixed(0)} MiB/s, sha256 ${hash.value.toFixed(0)} MiB/s; npm start PUT at ${share.value.toFixed(2)} of it`);
    for (const [fact, mode] of [[bare, 'sync'], [overlapped, 'overlapped']] as const) {
      const bareRuns = await barePut(ctx, blob, runs, mode);
      fact.runs = bareRuns.map((v) => v / ceiling);
      fact.value = median(fact.runs);
      fact.notes.push(`bare PUT (${mode}) ${median(bareRuns).toFixed(0)} MiB/s; npm start reaches ${(median(ours) / median(bareRuns)).toFixed(2)} of it`);
      ctx.log(`  bare node:http PUT (${mode}) ${median(bareRuns).toFixed(0)} MiB/s, ${fact.value.toFixed(2)} of the ceiling`);
    }
  } catch (e) {
    for (const f of [disk, hash, share, bare, overlapped]) if (f.value === undefined) f.error = (e as Error).message;
  }
  return [disk, hash, share, bare, overlapped];
}

/** MiB/s of `runs` PUTs of the blob to the bare server, each after a sync, as the PUT row times npm start's. */
async function barePut(ctx: Ctx, blob: RawBlob, runs: number, mode: 'sync' | 'overlapped'): Promise<number[]> {
  const dir = await mkdtemp(join(ctx.root, 'bare-'));
  const port = await freePort();
  const server = spawnServer(process.execPath, [fileURLToPath(new URL('./bare-put-server.ts', import.meta.url)), String(port), dir, mode]);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the bare PUT server', async () => (await fetch(`${url}/`)).ok, { failIf: () => (server.child.exitCode !== null ? server.output.join('\n') : undefined) });
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      await run('sync', [], { timeoutMs: TIMEOUT_MS });
      out.push(blob.size / MiB / (await curlPut({ url }, 'bench/bare', blob)));
      await rm(join(dir, blob.digest.slice('sha256:'.length)), { force: true });
    }
    return out;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
