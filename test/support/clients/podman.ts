// podman with its own storage (vfs), run root, events log, registries.conf, policy and HOME: nothing
// of the machine's own podman state is read or written (containers-storage.ts). Flags: its own
// --root and --runroot, vfs, file events, cgroupfs.
import { rm } from 'node:fs/promises';
import { privateContainersState } from './containers-storage.ts';
import { run, type RunOptions, type RunResult } from './process.ts';
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
  const state = await privateContainersState('e2e-podman-');
  const global = [...state.storageFlags, '--events-backend', 'file', '--cgroup-manager', 'cgroupfs'];
  const podman: Podman = {
    dir: state.dir,
    run: (args, opts = {}) => run(bin, [...global, ...args], { timeoutMs: 60_000, ...opts, env: { ...state.env, ...opts.env } }),
    async close() {
      // vfs layers may hold read-only dirs: let podman remove its storage first.
      await podman.run(['system', 'reset', '--force'], { allowFail: true, timeoutMs: 30_000 });
      await rm(state.dir, { recursive: true, force: true });
      state.release();
    },
  };
  return podman;
}
