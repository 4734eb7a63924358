// Long-running client daemons (containerd, dockerd) in their own process group and temp dir:
// launchDaemon() spawns one, waits until it answers and hands back its stop(); stop() (or, if this
// process dies first, the emergency hook) kills what is still running, lazily unmounts anything
// left under the temp dir and removes the dir.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { alive, killGroup, register, signalPid, sleep, tail, waitGone } from './process.ts';
import { Unavailable } from './tools.ts';

/** Pids of processes whose command line mentions `needle` (a unique temp dir of ours). */
function pidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Mount points at or below dir, deepest first (from /proc/self/mountinfo). */
function mountsUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {
      // not ours to fail on; rm below reports what is left
    }
  }
}

/** Stops a daemon we spawned (group leader pid) and everything still mentioning its dir. */
async function stopDaemon(pid: number, dir: string, graceMs: number): Promise<void> {
  if (alive(pid)) {
    signalPid(pid, 'SIGTERM');
    if (!(await waitGone(pid, graceMs))) killGroup(pid, 'SIGKILL');
    await waitGone(pid, 5000);
  }
  killGroup(pid, 'SIGKILL'); // stragglers in its group
  // Children that left the group (dockerd's managed containerd, shims) are found by our unique dir.
  for (const other of pidsMentioning(`${dir}/`)) {
    signalPid(other, 'SIGTERM');
    if (!(await waitGone(other, 5000))) signalPid(other, 'SIGKILL');
  }
  unmountUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

function stopDaemonSync(pid: number, dir: string): void {
  killGroup(pid, 'SIGKILL');
  for (const other of pidsMentioning(`${dir}/`)) signalPid(other, 'SIGKILL');
  unmountUnder(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

/** Spawns a long-running daemon in its own process group, output appended to logFile. */
function spawnDaemon(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.on('error', () => {
      // reported through the readiness check
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

async function logTail(file: string, n = 3000): Promise<string> {
  try {
    return tail(await readFile(file, 'utf8'), n);
  } catch {
    return '(no log)';
  }
}

/** Polls ready() until it resolves true, the child exits, or the deadline passes. */
async function waitReady(child: ChildProcess, ready: () => Promise<boolean>, ms: number): Promise<'ready' | 'exited' | 'timeout'> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    if (await ready()) return 'ready';
    await sleep(200);
  }
  return 'timeout';
}

export interface DaemonSpec {
  /** The daemon in the "did not spawn" message. */
  name: string;
  /** The daemon in the "could not start here" message (default: name). */
  label?: string;
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Our private temp dir for it (removed by stop()); every path it uses lies below it. */
  dir: string;
  logFile: string;
  /** Resolves true once the daemon answers. */
  ready(): Promise<boolean>;
  startTimeoutMs: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  graceMs: number;
}

/** Spawns a daemon and waits until it is ready; returns its stop(). Throws Unavailable if it cannot run here. */
export async function launchDaemon(spec: DaemonSpec): Promise<() => Promise<void>> {
  const child = spawnDaemon(spec.bin, spec.args, spec.logFile, spec.env);
  const pid = child.pid;
  if (pid === undefined) {
    await rm(spec.dir, { recursive: true, force: true });
    throw new Unavailable(`${spec.name} did not spawn: ${await logTail(spec.logFile)}`);
  }
  const reg = register({ cleanupSync: () => stopDaemonSync(pid, spec.dir) });
  const stop = async (): Promise<void> => {
    await stopDaemon(pid, spec.dir, spec.graceMs);
    reg.release();
  };
  const state = await waitReady(child, () => spec.ready(), spec.startTimeoutMs);
  if (state !== 'ready') {
    const log = await logTail(spec.logFile);
    await stop();
    throw new Unavailable(`${spec.label ?? spec.name} could not start here (${state}): ${log}`);
  }
  return stop;
}
