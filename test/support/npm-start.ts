// Starts the registry the README's way, `npm start` in the project folder, as the leader of its own
// process group, so a test can signal npm alone (as `docker stop`, systemd or `kill $!` do) and then
// check by process group that nothing of the registry is left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { keepOutput } from './test-output.ts';

export const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface NpmStarted {
  /** The npm process; its pid is also the process group id. */
  npm: ChildProcess;
  url: string;
  port: number;
  /** The registry's own node process, from its `listening` log line. */
  registryPid: number;
  /** Every line written to stdout (npm's banner, then the registry's JSON log). */
  lines: string[];
  /** Resolves with npm's exit status once it has exited and all its output has been read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export async function npmStart(dataDir: string, env: Record<string, string> = {}): Promise<NpmStarted> {
  const npm = spawn('npm', ['start'], {
    cwd: projectDir,
    detached: true,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', REGISTRY_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  npm.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    keepOutput('npm start stderr', d.toString());
  });
  // 'close': npm has exited and its stdout (which the registry shares) is read to the end.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('close', (code, signal) => resolve({ code, signal })));
  const lines: string[] = [];
  const listening = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not listen in 30 s; stderr: ${stderr}`)), 30_000);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before listening; stderr: ${stderr}`));
    });
    createInterface({ input: npm.stdout! }).on('line', (line) => {
      lines.push(line);
      keepOutput('npm start', `${line}\n`);
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; url?: string; pid?: number };
      if (entry.msg === 'listening' && entry.url && entry.pid) {
        clearTimeout(timer);
        resolve({ url: entry.url, pid: entry.pid });
      }
    });
  });
  return { npm, url: listening.url, port: Number(new URL(listening.url).port), registryPid: listening.pid, lines, exited, stderr: () => stderr };
}

/** Whether any process of process group `pgid` (or, with a plain pid, that process) still exists. */
export function alive(pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** Milliseconds until `done()` holds, polling every 10 ms; throws after `limitMs`. */
export async function waitUntil(done: () => boolean | Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await done()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Kills what is left of a test's process group (only ever that group), e.g. after a failed assertion. */
export function killGroup(pgid: number | undefined): void {
  if (pgid !== undefined && alive(pgid, true)) process.kill(-pgid, 'SIGKILL');
}
