// The private state of a client built on containers/image and containers/storage (podman, buildah):
// its own storage root (vfs) and run root, HOME and XDG dirs, registries.conf, signature policy,
// containers.conf and auth file, all in one temp dir; nothing of the machine's own state is read or
// written.
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './process.ts';

export interface ContainersState {
  /** Private dir holding the storage root, run root, HOME, XDG dirs and config files. */
  dir: string;
  /** The environment that points the client at those files. */
  env: NodeJS.ProcessEnv;
  /** Global flags every client of this family takes: its own --root, --runroot and vfs. */
  storageFlags: string[];
  /** The auth file `login` writes (REGISTRY_AUTH_FILE). */
  authFile: string;
  /** Stops the exit hook from removing the dir (call after removing it). */
  release(): void;
}

export async function privateContainersState(prefix: string): Promise<ContainersState> {
  // Lowercase: buildah names an image pulled from a path under it after that path.
  const dir = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  const hook = register({ cleanupSync: () => rmSync(dir, { recursive: true, force: true }) });
  for (const d of ['root', 'runroot', 'home', 'config', 'data', 'run', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(join(dir, 'registries.conf'), '');
  // podman and buildah refuse a REGISTRY_AUTH_FILE that does not exist.
  const authFile = join(dir, 'run', 'auth.json');
  await writeFile(authFile, '{}');
  // containers.conf: the events log and the image copy's temp files stay in the private dir.
  await writeFile(join(dir, 'containers.conf'), `[engine]\nevents_logfile_path = "${join(dir, 'events.log')}"\nimage_copy_tmp_dir = "${join(dir, 'tmp')}"\n`);
  await writeFile(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\nrunroot = "${join(dir, 'runroot')}"\ngraphroot = "${join(dir, 'root')}"\n`);
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
    REGISTRY_AUTH_FILE: authFile,
  };
  const storageFlags = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs'];
  return { dir, env, storageFlags, authFile, release: () => hook.release() };
}
