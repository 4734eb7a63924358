// What a registry asks of the disk during one blob PUT: the sync-family system calls its process
// makes (fsync, fdatasync, sync_file_range, ...), counted by `strace -c` attached to every thread of
// the server for one extra, untimed PUT (ptrace slows the process, so the timed runs are not traced).
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAws } from './aws.ts';
import { run, waitFor } from './proc.ts';
import type { Row } from './rows.ts';
import { curlPut, type Ctx, type RawBlob } from './scenarios.ts';

const SYNC_CALLS = ['fsync', 'fdatasync', 'sync_file_range', 'syncfs', 'sync', 'msync'];

/** Parses the table `strace -c` writes: calls per system call name. */
export function parseStraceSummary(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && m[2] !== 'total') out[m[2]!] = Number(m[1]);
  }
  return out;
}

/**
 * The sync-family calls process `pid` (all its threads, and threads it starts) makes while `work`
 * runs. Needs strace and the right to trace the process (root, or ptrace allowed).
 */
export async function syncCallsDuring(pid: number, dir: string, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const out = join(dir, `strace-${pid}-${Date.now()}.txt`);
  // -p attaches every thread of the process ("attached with N threads"), -f the threads it starts later.
  const strace = spawn('strace', ['-f', '-c', '-e', `trace=${SYNC_CALLS.join(',')}`, '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  strace.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => strace.once('exit', (code) => resolve(code)));
  try {
    await waitFor('strace to attach', async () => new RegExp(`Process ${pid} attached`).test(stderr), {
      timeoutMs: 10_000,
      failIf: () => (strace.exitCode !== null ? `strace exited: ${stderr.trim()}` : undefined),
    });
    await work();
  } finally {
    strace.kill('SIGINT');
    await exited;
  }
  try {
    return parseStraceSummary(await readFile(out, 'utf8'));
  } finally {
    await rm(out, { force: true });
  }
}

/** `fsync 11, fdatasync 2`, or `none`. */
export function describeCalls(calls: Record<string, number>): string {
  const parts = Object.entries(calls).filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * One extra, untimed PUT of `blob` per registry under strace; notes the sync-family calls each
 * server made for it on the PUT row. start:aws runs in the bench's own process and is not traced.
 */
export async function putSyncCalls(ctx: Ctx, row: Row, blob: RawBlob): Promise<void> {
  for (const t of ctx.targets) {
    if (isAws(t) || t.pid === undefined || row.errors[t.side] !== undefined) continue;
    try {
      await run('sync', [], { timeoutMs: 60_000 });
      const calls = await syncCallsDuring(t.pid, ctx.root, () => curlPut(t, 'bench/raw-traced', blob));
      row.notes.push(`${t.side}: sync-family system calls during one PUT (strace -c, an extra untimed run): ${describeCalls(calls)}`);
      ctx.log(`  ${row.label} ${t.side} under strace: ${describeCalls(calls)}`);
    } catch (e) {
      row.notes.push(`${t.side}: sync calls not counted: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}
