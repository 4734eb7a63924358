// Real registry clients from Debian's packages, run in isolation for e2e tests and benchmarks:
// - run(): one command with a hard timeout (the whole process group is killed on expiry);
// - createSkopeo(): skopeo with its own blob-info cache, policy, registries.conf and temp dir;
// - startContainerd(): a private containerd (own root, state, sockets; CRI plugin disabled) + ctr;
// - startDockerd(): a private dockerd (own data/exec root, socket, vfs, no networking) + docker CLI.
// Nothing here touches the machine's own daemons or caches. Every daemon is stopped by stop();
// if the process dies first, an exit/signal hook kills what is still running (by pid/process group),
// lazily unmounts anything left under its temp dir and removes the dir.
//
// Tool policy: binaries are looked up in /usr/bin, /usr/sbin, /bin, /sbin first (where Debian's
// packages put them) and then on PATH, so a newer client in /usr/local/bin does not shadow the
// packaged one. When a tool or daemon is unavailable, toolGate()/startOrSkip() turn that into a
// node:test skip with a reason, except under CI=true, where it is an error (CI installs them).
// E2E_HIDE_TOOLS=skopeo,dockerd makes tools look missing (to check those paths).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

export const isCI = process.env.CI === 'true';

// ---------------------------------------------------------------------------------------------
// Tool discovery and skipping

const preferredDirs = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];

/** Tools to treat as not installed (comma-separated), to exercise the skip/CI-failure paths. */
const hidden = new Set((process.env.E2E_HIDE_TOOLS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** Absolute path of an executable, or undefined. Debian's package dirs win over PATH. */
export function findTool(name: string): string | undefined {
  if (hidden.has(name)) return undefined;
  const dirs = [...preferredDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin'];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function requireTool(name: string): string {
  const file = findTool(name);
  if (!file) throw new Unavailable(`${name} is not installed`);
  return file;
}

/** A daemon or tool that cannot run in this environment. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

export interface ToolGate {
  /** Reason to skip (tools missing, not CI), for node:test's `skip` option; undefined when all found. */
  skip: string | undefined;
  /** Throws under CI=true when a tool is missing; call first in the test body. */
  check(): void;
}

/** Checks that all named executables exist. */
export function toolGate(names: string[]): ToolGate {
  const missing = names.filter((n) => findTool(n) === undefined);
  const reason = missing.length ? `not installed: ${missing.join(', ')}` : undefined;
  return {
    skip: reason && !isCI ? reason : undefined,
    check() {
      if (reason) throw new Error(`CI=true but required e2e tools are missing (${reason}); CI must install them`);
    },
  };
}

/**
 * Starts a daemon; if it is Unavailable in this environment, marks the test skipped with the reason
 * and returns undefined (the caller returns). Under CI=true it rethrows instead.
 */
export async function startOrSkip<T>(t: TestContext, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof Unavailable && !isCI) {
      t.skip(err.message);
      return undefined;
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Running commands

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

function tail(s: string, n: number): string {
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
      child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err as Error);
      return;
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
      const line = `${cmd} ${args.join(' ')}`;
      if (timedOut) {
        reject(new CommandError(`timed out after ${timeoutMs} ms: ${line}\nstderr: ${tail(stderr, 4000)}\nstdout: ${tail(result.text, 2000)}`, result));
      } else if (code !== 0 && !opts.allowFail) {
        reject(
          new CommandError(
            `exit ${code ?? signal}: ${line}\nstderr: ${tail(stderr, 4000)}\nstdout: ${tail(result.text, 2000)}`,
            result,
          ),
        );
      } else {
        resolve(result);
      }
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

function register(e: Emergency): { release(): void } {
  installHooks();
  emergencies.add(e);
  return { release: () => emergencies.delete(e) };
}

function trackGroup(pgid: number): { release(): void } {
  return register({ cleanupSync: () => killGroup(pgid, 'SIGKILL') });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

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
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
    if (!(await waitGone(pid, graceMs))) killGroup(pid, 'SIGKILL');
    await waitGone(pid, 5000);
  }
  killGroup(pid, 'SIGKILL'); // stragglers in its group
  // Children that left the group (dockerd's managed containerd, shims) are found by our unique dir.
  for (const other of pidsMentioning(`${dir}/`)) {
    try {
      process.kill(other, 'SIGTERM');
    } catch {
      // gone
    }
    if (!(await waitGone(other, 5000))) {
      try {
        process.kill(other, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  unmountUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

function stopDaemonSync(pid: number, dir: string): void {
  killGroup(pid, 'SIGKILL');
  for (const other of pidsMentioning(`${dir}/`)) {
    try {
      process.kill(other, 'SIGKILL');
    } catch {
      // gone
    }
  }
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

// ---------------------------------------------------------------------------------------------
// skopeo

export interface Skopeo {
  /** Private dir holding HOME, XDG dirs, policy, registries.conf and skopeo's temp files. */
  dir: string;
  /** Where this instance keeps its blob-info cache (the root default is /var/lib/containers/cache). */
  blobInfoCache: string;
  env: NodeJS.ProcessEnv;
  /** `skopeo <global flags> ...args`. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

/**
 * An isolated skopeo. As root, skopeo keeps its blob-info cache (which makes it mount blobs instead of
 * uploading them) in /var/lib/containers/cache; with _CONTAINERS_ROOTLESS_UID set it uses
 * $XDG_DATA_HOME/containers/cache instead, so each instance starts with an empty cache of its own.
 * Policy is accept-anything, registries.conf is empty, auth lookups hit only the private dirs.
 */
export async function createSkopeo(): Promise<Skopeo> {
  const bin = requireTool('skopeo');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-skopeo-'));
  const reg = register({ cleanupSync: () => rmSync(dir, { recursive: true, force: true }) });
  for (const d of ['home', 'data', 'run', 'config', 'tmp', 'registries.d']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(join(dir, 'registries.conf'), '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    _CONTAINERS_ROOTLESS_UID: '4242',
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'run', 'auth.json'),
  };
  const global = ['--policy', join(dir, 'policy.json'), '--registries.d', join(dir, 'registries.d'), '--tmpdir', join(dir, 'tmp')];
  return {
    dir,
    blobInfoCache: join(dir, 'data', 'containers', 'cache', 'blob-info-cache-v1.boltdb'),
    env,
    run: (args, opts = {}) => run(bin, [...global, ...args], { timeoutMs: 20_000, ...opts, env: { ...env, ...opts.env } }),
    async close() {
      await rm(dir, { recursive: true, force: true });
      reg.release();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// containerd + ctr

export interface Containerd {
  dir: string;
  /** gRPC socket, for `ctr -a`. */
  socket: string;
  namespace: string;
  version: string;
  logFile: string;
  /** `ctr -a SOCKET -n NAMESPACE ...args`. */
  ctr(args: string[], opts?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

/** Config version for the installed containerd: 2 for 1.x, 3 for 2.x. */
function containerdConfig(major: number, dir: string): string {
  const q = JSON.stringify;
  const disabled = major >= 2 ? ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.runtime', 'io.containerd.cri.v1.images'] : ['io.containerd.grpc.v1.cri'];
  return [
    `version = ${major >= 2 ? 3 : 2}`,
    `root = ${q(join(dir, 'root'))}`,
    `state = ${q(join(dir, 'state'))}`,
    `disabled_plugins = [${disabled.map((p) => q(p)).join(', ')}]`,
    '',
    '[grpc]',
    `  address = ${q(join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${q(join(dir, 'containerd.sock.ttrpc'))}`,
    '[debug]',
    `  address = ${q(join(dir, 'debug.sock'))}`,
    '[metrics]',
    '  address = ""',
    '',
    `[plugins.${q('io.containerd.internal.v1.opt')}]`,
    `  path = ${q(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

/** Starts a private containerd; throws Unavailable if it cannot run here. */
export async function startContainerd(
  opts: { namespace?: string; startTimeoutMs?: number; /** TOML appended to the generated config. */ extraConfig?: string } = {},
): Promise<Containerd> {
  const containerdBin = requireTool('containerd');
  const ctrBin = requireTool('ctr');
  const versionOut = (await run(containerdBin, ['--version'], { timeoutMs: 10_000 })).text.trim();
  // "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
  const version = /\s(v?\d+\.\d+\.\d+\S*)/.exec(versionOut)?.[1] ?? versionOut;
  const major = Number(/(\d+)\./.exec(version)?.[1] ?? '1');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-ctrd-'));
  const configFile = join(dir, 'config.toml');
  await writeFile(configFile, containerdConfig(major, dir) + (opts.extraConfig ?? ''));
  const socket = join(dir, 'containerd.sock');
  const logFile = join(dir, 'containerd.log');
  const namespace = opts.namespace ?? 'e2e';
  const child = spawnDaemon(containerdBin, ['--config', configFile], logFile, process.env);
  const pid = child.pid;
  if (pid === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Unavailable(`containerd did not spawn: ${await logTail(logFile)}`);
  }
  const reg = register({ cleanupSync: () => stopDaemonSync(pid, dir) });
  const ctr = (args: string[], o: RunOptions = {}): Promise<RunResult> =>
    run(ctrBin, ['-a', socket, '-n', namespace, ...args], { timeoutMs: 30_000, ...o });
  const state = await waitReady(
    child,
    async () => (await ctr(['version'], { allowFail: true, timeoutMs: 5000 }).catch(() => undefined))?.code === 0,
    opts.startTimeoutMs ?? 15_000,
  );
  if (state !== 'ready') {
    const log = await logTail(logFile);
    await stopDaemon(pid, dir, 5000);
    reg.release();
    throw new Unavailable(`containerd ${version} could not start here (${state}): ${log}`);
  }
  return {
    dir,
    socket,
    namespace,
    version,
    logFile,
    ctr,
    async stop() {
      await stopDaemon(pid, dir, 5000);
      reg.release();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// dockerd + docker

export interface Dockerd {
  dir: string;
  /** `unix:///.../docker.sock`, for `docker -H`. */
  host: string;
  version: string;
  logFile: string;
  /** `docker -H HOST ...args` with a private DOCKER_CONFIG. */
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

/**
 * Starts a private dockerd with the flags of DESIGN.md §8 plus a private (empty) --config-file.
 * Debian's dockerd (20.10) starts and stops its own containerd under --exec-root/--data-root.
 * 127.0.0.0/8 is an insecure registry by default, so loopback registries work over plain HTTP.
 * Throws Unavailable if it cannot run here.
 */
export async function startDockerd(opts: { startTimeoutMs?: number; /** More dockerd flags. */ extraArgs?: string[] } = {}): Promise<Dockerd> {
  const dockerdBin = requireTool('dockerd');
  const dockerBin = requireTool('docker');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const logFile = join(dir, 'dockerd.log');
  await writeFile(join(dir, 'daemon.json'), '{}');
  await mkdir(join(dir, 'client'), { recursive: true });
  await writeFile(join(dir, 'client', 'config.json'), '{}');
  // prettier-ignore
  const args = [
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '-H', host,
    '--config-file', join(dir, 'daemon.json'),
    '--storage-driver=vfs',
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-masq=false', '--userland-proxy=false',
    ...(opts.extraArgs ?? []),
  ];
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  const child = spawnDaemon(dockerdBin, args, logFile, env);
  const pid = child.pid;
  if (pid === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw new Unavailable(`dockerd did not spawn: ${await logTail(logFile)}`);
  }
  const reg = register({ cleanupSync: () => stopDaemonSync(pid, dir) });
  const clientEnv: NodeJS.ProcessEnv = { ...env, DOCKER_CONFIG: join(dir, 'client') };
  delete clientEnv.DOCKER_CONTEXT;
  delete clientEnv.DOCKER_TLS_VERIFY;
  const docker = (a: string[], o: RunOptions = {}): Promise<RunResult> =>
    run(dockerBin, ['-H', host, ...a], { timeoutMs: 30_000, ...o, env: { ...clientEnv, ...o.env } });
  let version = '';
  const state = await waitReady(
    child,
    async () => {
      const r = await docker(['version', '--format', '{{.Server.Version}}'], { allowFail: true, timeoutMs: 5000 }).catch(() => undefined);
      if (r?.code !== 0) return false;
      version = r.text.trim();
      return true;
    },
    opts.startTimeoutMs ?? 20_000,
  );
  if (state !== 'ready') {
    const log = await logTail(logFile);
    await stopDaemon(pid, dir, 10_000);
    reg.release();
    throw new Unavailable(`dockerd could not start here (${state}): ${log}`);
  }
  return {
    dir,
    host,
    version,
    logFile,
    docker,
    async stop() {
      await stopDaemon(pid, dir, 10_000);
      reg.release();
    },
  };
}
