// Administration of a project's storage quota (core/quota.ts enforces it): stored on the project, as
// its tag policies are; what `npm run admin -- policy quota` and the management API set.
import type { IdentityStore } from './identity-store.ts';
import type { Project } from './model.ts';
import { AdminError } from './admin.ts';

/** Largest quota that may be set: 1 PiB (a whole number of bytes stays exact far beyond). */
export const MAX_QUOTA = 2 ** 50;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4 };

/** `10GiB`, `500 MB`, `1.5G`, `1048576`: bytes (K, M, G, T and KiB... are binary; KB, MB... decimal). */
export function parseSize(text: string): number {
  const m = /^\s*(\d{1,16}(?:\.\d{1,6})?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new AdminError(`${JSON.stringify(text)} is not a size: give bytes, or a number with K, M, G, T (binary) or KB, MB, GB, TB (decimal), such as 10GiB`);
  return Math.floor(Number(m[1]) * unit);
}

/** A project's quota as shown to people; with `usage`, what it uses. */
export function quotaOf(p: Project, usage?: { bytes: number; blobs: number }) {
  return { project: p.name, quotaBytes: p.quotaBytes ?? null, ...(usage ? { usedBytes: usage.bytes, blobs: usage.blobs } : {}) };
}

/** Sets (a whole number of bytes from 1 to 1 PiB) or removes (undefined) the project's quota; the project as stored. */
export async function setQuota(store: IdentityStore, name: string, bytes: number | undefined): Promise<Project> {
  const project = await store.getProject(name);
  if (!project) throw new AdminError(`no project ${name}`);
  if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > MAX_QUOTA)) throw new AdminError(`a quota is a whole number of bytes from 1 to ${MAX_QUOTA} (1 PiB), got ${bytes}`);
  if (bytes !== undefined && project.proxy) throw new AdminError(`project ${name} is a proxy project: its cache has no storage quota (a full quota would fail pulls)`);
  const { quotaBytes: _, ...rest } = project;
  const next: Project = bytes === undefined ? rest : { ...rest, quotaBytes: bytes };
  await store.putProject(next, { create: false });
  return next;
}
