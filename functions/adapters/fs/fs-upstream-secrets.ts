// Upstream credentials of proxy projects in the data dir: one file per project in a folder only the
// registry's user may read (0700, files 0600), written whole to a temp file and renamed into place.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpstreamCredentials, UpstreamSecrets } from '../../core/proxy/model.ts';

export const UPSTREAM_SECRETS_DIR = 'upstream-credentials';

export class FsUpstreamSecrets implements UpstreamSecrets {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = join(dataDir, UPSTREAM_SECRETS_DIR);
  }

  // Project names are a-z 0-9 . _ - (checkProjectName): safe as file names.
  #file(project: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(project)) throw new Error('not a project name');
    return join(this.#dir, `${project}.json`);
  }

  async get(project: string): Promise<UpstreamCredentials | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.#file(project), 'utf8')) as Partial<UpstreamCredentials>;
      return typeof parsed.username === 'string' && typeof parsed.password === 'string' ? { username: parsed.username, password: parsed.password } : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async put(project: string, credentials: UpstreamCredentials): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = this.#file(project);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(credentials), { mode: 0o600, flush: true });
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(project: string): Promise<void> {
    await rm(this.#file(project), { force: true });
  }
}
