// Process helpers for the benchmark: run a command and time it, find tools on PATH, free ports,
// and one cleanup list that runs on normal exit, on failure and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants as fsConstants, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  seconds: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Kill the command after this long (default 180 s). */
  timeoutMs?: number;
  /** Resolve instead of throwing when the command fails. */
  allowFail?: boolean;
}

/** Children of this process that are still running (killed by the cleanup on SIGINT). */
const active = new Set<ChildProcess>();

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(cmd: string, args: string[], result: RunResult) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
    const tail = (s: string): string => s.trim().split('\n').slice(-15).join('\n');
    super(`${cmd} ${args.join(' ')} failed (${how})\n${tail(result.stderr) || tail(result.stdout)}`);
    this.result = result;
  }
}

/** Set once cleanup has begun (SIGINT or end of run): no new processes may start after it. */
let aborting = false;

/** Throws once cleanup has begun, so the benchmark stops between steps instead of writing into removed dirs. */
export function checkAborted(): void {
  if (aborting) throw new Error('interrupted');
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (aborting) {
      reject(new Error(`not starting ${cmd}: cleaning up`));
      return;
    }
    const start = performance.now();
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    active.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      active.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      active.delete(child);
      const result: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        seconds: (performance.now() - start) / 1000,
      };
      if (code !== 0 && !opts.allowFail) reject(new CommandError(cmd, args, result));
      else resolve(result);
    });
  });
}

/** Starts a long-running process; its output is kept (last 200 lines) for error messages. */
export interface Server {
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
  stop(): Promise<void>;
}

export function spawnServer(cmd: string, args: string[]): Server {
  if (aborting) throw new Error(`not starting ${cmd}: cleaning up`);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  active.add(child);
  const output: string[] = [];
  const keep = (d: Buffer): void => {
    output.push(...d.toString().split('\n').filter((l) => l !== ''));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      active.delete(child);
      resolve();
    });
    child.once('error', (e) => {
      output.push(String(e));
      active.delete(child);
      resolve();
    });
  });
  return {
    child,
    output,
    exited,
    async stop() {
      await stopChild(child, exited);
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 8000))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Absolute path of an executable on PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      await access(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; failIf?: () => string | undefined } = {},
): Promise<void> {
  const until = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const fatal = opts.failIf?.();
    if (fatal !== undefined) throw new Error(`${what}: ${fatal}`);
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---- cleanup ----

const cleanups: { name: string; fn: () => Promise<void> }[] = [];

/** Registers a cleanup step; steps run in reverse order of registration. */
export function onCleanup(name: string, fn: () => Promise<void>): void {
  if (aborting) {
    // Registered while cleanup is running (e.g. a server that finished starting after SIGINT).
    void fn().catch((e: unknown) => console.error(`cleanup "${name}" failed: ${(e as Error).message}`));
    return;
  }
  cleanups.push({ name, fn });
}

let cleaning: Promise<void> | undefined;

export function cleanupAll(): Promise<void> {
  aborting = true;
  cleaning ??= (async () => {
    for (const child of active) {
      // Short-lived tools (skopeo, curl, wrk, ctr) and any server still up.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      try {
        await step.fn();
      } catch (e) {
        console.error(`cleanup "${step.name}" failed: ${(e as Error).message}`);
      }
    }
  })();
  return cleaning;
}

export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: cleaning up...`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every mainstream Linux). */
const USER_HZ = 100;

/** CPU time (user + system, seconds) a process has used so far; undefined where /proc is missing. */
export async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm)": state is field 3, utime field 14, stime field 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** The CPU seconds of several processes together; undefined when one cannot be read. */
export async function cpuOfAll(pids: number[]): Promise<number | undefined> {
  let sum = 0;
  for (const pid of pids) {
    const s = await cpuSeconds(pid);
    if (s === undefined) return undefined;
    sum += s;
  }
  return sum;
}
