// Running client commands in their own process group with a hard timeout, and the emergency
// cleanup behind every process and temp dir of the clients: whatever is still registered when this
// process exits or is signalled is cleaned up synchronously (kill by pid/process group, rm, umount).
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 text. */
  text: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process group after this long (default 120 s). */
  timeoutMs?: number;
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFail?: boolean;
  /** Written to the command's stdin (then closed): how a secret reaches it, never argv. */
  input?: string;
}

/** A command that failed; the message carries the command line, exit status and output tails. */
export class CommandError extends Error {
  override name = 'CommandError';
  declare readonly result: RunResult;
  constructor(message: string, result: RunResult) {
    super(message);
    // Not enumerable, so test reports show the message (which has the output tails), not the buffers.
    Object.defineProperty(this, 'result', { value: result, enumerable: false });
  }
}

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The last `n` characters of `s` without ANSI escapes, marked with "..." when cut. */
export function tail(s: string, n: number): string {
  const clean = s.replace(ansi, '');
  return clean.length > n ? `...${clean.slice(-n)}` : clean;
}

const maxStdout = 64 * 1024 * 1024;

/** Runs cmd in its own process group; rejects with CommandError on non-zero exit or timeout. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err as Error);
      return;
    }
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => undefined); // a command that exits before reading it
      child.stdin?.end(opts.input);
    }
    const out: Buffer[] = [];
    let outLen = 0;
    let stderr = '';
    let timedOut = false;
    const pid = child.pid;
    const guard = pid === undefined ? undefined : trackGroup(pid);
    child.stdout?.on('data', (d: Buffer) => {
      if (outLen < maxStdout) out.push(d);
      outLen += d.length;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 4 * 1024 * 1024) stderr = stderr.slice(-2 * 1024 * 1024);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      guard?.release();
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      guard?.release();
      const stdout = Buffer.concat(out);
      const result: RunResult = { code, signal, stdout, stderr, text: stdout.toString('utf8') };
      const failure = (what: string): CommandError =>
        new CommandError(`${what}: ${cmd} ${args.join(' ')}\nstderr: ${tail(stderr, 4000)}\nstdout: ${tail(result.text, 2000)}`, result);
      if (timedOut) reject(failure(`timed out after ${timeoutMs} ms`));
      else if (code !== 0 && !opts.allowFail) reject(failure(`exit ${code ?? signal}`));
      else resolve(result);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Emergency cleanup: whatever is still running when this process exits or is signalled.

interface Emergency {
  /** Synchronous last-resort cleanup. */
  cleanupSync(): void;
}

const emergencies = new Set<Emergency>();
let hooksInstalled = false;

function runEmergencies(): void {
  for (const e of [...emergencies]) {
    try {
      e.cleanupSync();
    } catch {
      // best effort
    }
    emergencies.delete(e);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runEmergencies);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runEmergencies();
      process.kill(process.pid, sig);
    });
  }
}

/** Registers a last-resort cleanup; release() once the resource was cleaned up the normal way. */
export function register(e: Emergency): { release(): void } {
  installHooks();
  emergencies.add(e);
  return { release: () => emergencies.delete(e) };
}

function trackGroup(pgid: number): { release(): void } {
  return register({ cleanupSync: () => killGroup(pgid, 'SIGKILL') });
}

/** Sends `signal` to a pid (or, negative, a process group); one that is already gone is fine. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  signalPid(-pgid, signal);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for `pid` to exit; true when it has. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}
