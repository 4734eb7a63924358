// podman with its own storage (vfs), run root, events log, registries.conf, policy and HOME: nothing
// of the machine's own podman state is read or written. Flags: its own --root and --runroot, vfs, file events, cgroupfs.
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register, run, type RunOptions, type RunResult } from './process.ts';
import { requireTool } from './tools.ts';

export interface Podman {
  /** Private dir holding the storage root, run root, HOME, XDG dirs and config files. */
  dir: string;
  /** `podman <isolation flags> ...args`. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Removes the storage (vfs layers are plain dirs) and the private dir. */
  close(): Promise<void>;
}

export async function createPodman(): Promise<Podman> {
  const bin = requireTool('podman');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-podman-'));
  const reg = register({ cleanupSync: () => rmSync(dir, { recursive: true, force: true }) });
  for (const d of ['root', 'runroot', 'home', 'config', 'data', 'run', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(join(dir, 'registries.conf'), '');
  // podman refuses a REGISTRY_AUTH_FILE that does not exist.
  await writeFile(join(dir, 'run', 'auth.json'), '{}');
  // containers.conf: the events log and the image copy's temp files stay in the private dir.
  await writeFile(join(dir, 'containers.conf'), `[engine]\nevents_logfile_path = "${join(dir, 'events.log')}"\nimage_copy_tmp_dir = "${join(dir, 'tmp')}"\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    TMPDIR: join(dir, 'tmp'),
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'run', 'auth.json'),
  };
  await writeFile(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\nrunroot = "${join(dir, 'runroot')}"\ngraphroot = "${join(dir, 'root')}"\n`);
  const global = [
    '--root', join(dir, 'root'),
    '--runroot', join(dir, 'runroot'),
    '--storage-driver', 'vfs',
    '--events-backend', 'file',
    '--cgroup-manager', 'cgroupfs',
  ];
  const podman: Podman = {
    dir,
    run: (args, opts = {}) => run(bin, [...global, ...args], { timeoutMs: 60_000, ...opts, env: { ...env, ...opts.env } }),
    async close() {
      // vfs layers may hold read-only dirs: let podman remove its storage first.
      await podman.run(['system', 'reset', '--force'], { allowFail: true, timeoutMs: 30_000 });
      await rm(dir, { recursive: true, force: true });
      reg.release();
    },
  };
  return podman;
}
