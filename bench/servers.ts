// The processes the benchmark compares and drives: CNCF distribution 2.8 (Debian's docker-registry),
// our local server (via test/support/registry.ts), and a private containerd for ctr.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.ts';
import { freePort, run, spawnServer, waitFor } from './proc.ts';

/** `aws`: start:aws (bench/aws.ts). */
export type Side = 'distribution' | 'ours' | 'aws';

export interface Target {
  side: Side;
  /** What actually runs, for the printout. */
  impl: string;
  /** e.g. http://127.0.0.1:40000 */
  url: string;
  /** e.g. 127.0.0.1:40000 */
  host: string;
  /** The server's recent output lines (for error reports). */
  logs: string[];
  /** Server process id, for its CPU time. */
  pid: number | undefined;
  /** Other processes of the server whose CPU counts with it (start:aws: the ingest service). */
  morePids?: () => number[];
  stop(): Promise<void>;
}

export const DISTRIBUTION_BIN = '/usr/bin/docker-registry';

/** Debian's CNCF distribution 2.8 with its own config: loopback, filesystem storage, no auth. */
export async function startDistribution(side: Side, dir: string): Promise<Target> {
  const port = await freePort();
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const config = join(dir, 'config.yml');
  // The storage cache and delete settings follow Debian's shipped /etc/docker/registry/config.yml.
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  cache:',
      '    blobdescriptor: inmemory',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  headers:',
      '    X-Content-Type-Options: [nosniff]',
      'health:',
      '  storagedriver:',
      '    enabled: false',
      '',
    ].join('\n'),
  );
  const server = spawnServer(DISTRIBUTION_BIN, ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `distribution on ${url}`,
      async () => {
        const res = await fetch(`${url}/v2/`);
        await res.arrayBuffer();
        return res.status === 200;
      },
      { failIf: () => (server.child.exitCode !== null ? 'docker-registry exited' : undefined) },
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${server.output.slice(-20).join('\n')}`, { cause: e });
  }
  return { side, impl: 'CNCF distribution 2.8 (docker-registry)', url, host: `127.0.0.1:${port}`, logs: server.output, pid: server.child.pid, stop };
}

/** Our server, started exactly as `npm start` runs it. */
export async function startOurs(): Promise<Target> {
  const reg = await startRegistry();
  return { side: 'ours', impl: 'ours (functions/apps/server/main.ts)', url: reg.url, host: reg.host, logs: reg.logs, pid: reg.child.pid, stop: () => reg.stop() };
}

export interface Containerd {
  socket: string;
  ctr(args: string[], opts?: { timeoutMs?: number }): ReturnType<typeof run>;
  stop(): Promise<void>;
}

/** A private containerd (own root, state and socket; CRI plugin disabled). */
export async function startContainerd(dir: string): Promise<Containerd> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[debug]',
      `  address = ""`,
      '[metrics]',
      `  address = ""`,
      '',
    ].join('\n'),
  );
  const server = spawnServer('containerd', ['--config', config]);
  const ctr = (args: string[], opts: { timeoutMs?: number } = {}): ReturnType<typeof run> =>
    run('ctr', ['-a', socket, '-n', 'bench', ...args], { timeoutMs: opts.timeoutMs ?? 180_000 });
  const stop = async (): Promise<void> => {
    await server.stop();
    // Snapshots may hold mounts in other setups; the native/overlay snapshotters here leave none.
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'containerd',
      async () => {
        await run('ctr', ['-a', socket, 'version'], { timeoutMs: 5000 });
        return true;
      },
      { failIf: () => (server.child.exitCode !== null ? 'containerd exited' : undefined) },
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${server.output.slice(-20).join('\n')}`, { cause: e });
  }
  return { socket, ctr, stop };
}
