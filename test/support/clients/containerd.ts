// A private containerd (own root, state, sockets; CRI plugin disabled) and ctr pointed at it.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchDaemon } from './daemon.ts';
import { run, type RunOptions, type RunResult } from './process.ts';
import { requireTool } from './tools.ts';

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
  const ctr = (args: string[], o: RunOptions = {}): Promise<RunResult> =>
    run(ctrBin, ['-a', socket, '-n', namespace, ...args], { timeoutMs: 30_000, ...o });
  const stop = await launchDaemon({
    name: 'containerd',
    label: `containerd ${version}`,
    bin: containerdBin,
    args: ['--config', configFile],
    env: process.env,
    dir,
    logFile,
    ready: async () => (await ctr(['version'], { allowFail: true, timeoutMs: 5000 }).catch(() => undefined))?.code === 0,
    startTimeoutMs: opts.startTimeoutMs ?? 15_000,
    graceMs: 5000,
  });
  return { dir, socket, namespace, version, logFile, ctr, stop };
}
