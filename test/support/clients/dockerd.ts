// A private dockerd (own data/exec root, socket, vfs, no networking) and the docker CLI pointed at it.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchDaemon } from './daemon.ts';
import { run, type RunOptions, type RunResult } from './process.ts';
import { requireTool } from './tools.ts';

export interface Dockerd {
  dir: string;
  /** `unix:///.../docker.sock`, for `docker -H`. */
  host: string;
  version: string;
  logFile: string;
  /** `docker -H HOST ...args` with a private DOCKER_CONFIG. */
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** `docker login` with the secret on stdin (never argv): its exit code and stderr, failures included. */
  login(user: string, secret: string, registry: string): Promise<{ code: number | null; err: string }>;
  stop(): Promise<void>;
}

/**
 * Starts a private dockerd (vfs storage, no iptables, no bridge, no userland proxy: nothing of the host's networking is touched) plus a private (empty) --config-file.
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
  const clientEnv: NodeJS.ProcessEnv = { ...env, DOCKER_CONFIG: join(dir, 'client') };
  delete clientEnv.DOCKER_CONTEXT;
  delete clientEnv.DOCKER_TLS_VERIFY;
  const docker = (a: string[], o: RunOptions = {}): Promise<RunResult> =>
    run(dockerBin, ['-H', host, ...a], { timeoutMs: 30_000, ...o, env: { ...clientEnv, ...o.env } });
  let version = '';
  const stop = await launchDaemon({
    name: 'dockerd',
    bin: dockerdBin,
    args,
    env,
    dir,
    logFile,
    ready: async () => {
      const r = await docker(['version', '--format', '{{.Server.Version}}'], { allowFail: true, timeoutMs: 5000 }).catch(() => undefined);
      if (r?.code !== 0) return false;
      version = r.text.trim();
      return true;
    },
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
    graceMs: 10_000,
  });
  const login = (user: string, secret: string, registry: string) => new Promise<{ code: number | null; err: string }>((resolve, reject) => {
    const child = spawn(dockerBin, ['-H', host, 'login', '--username', user, '--password-stdin', registry], { env: clientEnv, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.stdin.end(secret);
    child.once('exit', (code) => resolve({ code, err }));
  });
  return { dir, host, version, logFile, docker, login, stop };
}
