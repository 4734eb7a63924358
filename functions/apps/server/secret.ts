// The signing secret of the local server: REGISTRY_SECRET, else `<data>/secret`, created on first start.
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../config/config-error.ts';

/** Shortest accepted signing secret, in bytes (TokenSigner refuses shorter keys). */
export const MIN_SECRET_BYTES = 16;

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/**
 * The secret is written whole to a temp file, fsynced and then hard-linked into place, so neither a
 * crash nor a second instance starting at the same moment ever reads a partial secret, and only one
 * secret ever wins. On a filesystem without hard links (FAT, some FUSE and network mounts) it is
 * written in place instead: a concurrent start waits for it to be complete, and a crash in the middle
 * of that write leaves a short file, which is refused with a message saying to delete it.
 */
export async function loadSecret(dataDir: string, given: string | undefined): Promise<string> {
  if (given) return given;
  const file = join(dataDir, 'secret');
  const existing = await readSecret(file);
  if (existing !== undefined) return existing;
  const secret = randomBytes(32).toString('hex');
  const tmp = join(dataDir, `.secret-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, secret, { mode: 0o600, flush: true });
    await link(tmp, file).catch(async (e: unknown) => {
      if (codeOf(e) === 'EEXIST') return;
      if (!NO_HARD_LINKS.has(codeOf(e) ?? '')) throw e;
      await writeFile(file, secret, { mode: 0o600, flag: 'wx', flush: true }).catch((w: unknown) => {
        if (codeOf(w) !== 'EEXIST') throw w;
      });
    });
  } finally {
    await rm(tmp, { force: true });
  }
  const created = await readSecret(file);
  if (created === undefined) throw new Error(`${file} vanished while it was being created`);
  return created;
}

/** The secret in `file`; undefined when there is none. Waits up to 1 s for a short one to be completed. */
async function readSecret(file: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return undefined;
      throw e;
    }
    const secret = text.trim();
    if (secret.length >= MIN_SECRET_BYTES) return secret;
    if (attempt >= 20) throw new ConfigError(`${file} holds no valid secret (under ${MIN_SECRET_BYTES} characters): delete it to generate a new one`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
