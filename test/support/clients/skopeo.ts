// skopeo with its own blob-info cache, policy, registries.conf and temp dir.
import { rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register, run, type RunOptions, type RunResult } from './process.ts';
import { requireTool } from './tools.ts';

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
