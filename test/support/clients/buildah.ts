// buildah with its own storage (vfs), run root, registries.conf, policy, auth file and HOME: nothing
// of the machine's own state is read or written (containers-storage.ts).
import { rm } from 'node:fs/promises';
import { privateContainersState } from './containers-storage.ts';
import { run, type RunOptions, type RunResult } from './process.ts';
import { requireTool } from './tools.ts';

export interface Buildah {
  /** Private dir holding the storage root, run root, HOME, XDG dirs and config files. */
  dir: string;
  /** The auth file `buildah login` writes. */
  authFile: string;
  /** `buildah <isolation flags> ...args`. */
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Removes the images and the private dir. */
  close(): Promise<void>;
}

export async function createBuildah(): Promise<Buildah> {
  const bin = requireTool('buildah');
  const state = await privateContainersState('e2e-buildah-');
  const buildah: Buildah = {
    dir: state.dir,
    authFile: state.authFile,
    run: (args, opts = {}) => run(bin, [...state.storageFlags, ...args], { timeoutMs: 60_000, ...opts, env: { ...state.env, ...opts.env } }),
    async close() {
      await buildah.run(['rmi', '--all', '--force'], { allowFail: true, timeoutMs: 30_000 });
      await rm(state.dir, { recursive: true, force: true });
      state.release();
    },
  };
  return buildah;
}
