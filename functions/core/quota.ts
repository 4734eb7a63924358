// Storage quotas per project (docs/quotas.md). A project's usage is the size of the distinct blobs
// linked into its repositories (a blob shared by two of them counts once; manifests do not count),
// kept by the metadata store as links are written and removed. A push that would take the project
// beyond its quota is refused with 403 DENIED: before any byte is read when the request says how
// many bytes follow (Content-Length), at the finishing PUT of an upload (its size is known then), and
// otherwise where the blob is recorded (the manifest PUT that finds an edge upload, the storage event);
// every link write carries the limit, checked in the same atomic write (QuotaExceededError).
import type { IdentityStore } from './auth/identity-store.ts';
import { projectOf } from './auth/model.ts';
import { cachedProjects } from './auth/project-cache.ts';
import { RegistryError } from './errors.ts';
import type { MetadataStore } from './ports.ts';
import { QuotaExceededError } from './quota-ports.ts';

/** A project's quota in bytes per repository name (its project's); undefined: none. */
export type Quotas = (repository: string) => Promise<number | undefined>;

export const QUOTA_SECONDS = 10;

/** Quotas read from the projects, kept in the process for a few seconds (a new quota applies that much later). */
export function projectQuotas(store: IdentityStore, now: () => number = Date.now, ttlSeconds = QUOTA_SECONDS): Quotas {
  const project = cachedProjects(store, now, ttlSeconds);
  return async (repository) => (await project(projectOf(repository)))?.quotaBytes;
}

/** `1.5 GiB`, `512 MiB`, `300 B`: sizes as people read them (binary units). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n, i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${Number(v.toFixed(2))} ${units[i]}`;
}

/** The refusal: 403 DENIED, naming the project, what it uses, what the push adds and the limit. */
export function quotaDenied(e: QuotaExceededError): RegistryError {
  return new RegistryError('DENIED', { project: e.project, quota: e.limit, used: e.used, size: e.size }, {
    message: `storage quota of project ${e.project} exceeded: ${formatBytes(e.used)} used of ${formatBytes(e.limit)}, this push adds ${formatBytes(e.size)}`,
  });
}

interface QuotaDeps {
  metadata: MetadataStore;
  quotas?: Quotas;
}

/** The limit a link write into `repo` carries (its project's quota), if any. */
export const limitOf = async (deps: QuotaDeps, repo: string): Promise<number | undefined> => deps.quotas?.(repo);

/**
 * Before bytes are taken: refuses (403 DENIED) when `size` more bytes in `repo` would take its project
 * beyond its quota. With the blob's `digest`, a blob the project counts already adds nothing. Costs
 * one read of the usage only when the project has a quota. Returns the limit, for the link write.
 */
export async function checkRoom(deps: QuotaDeps, repo: string, size: number, digest?: string): Promise<number | undefined> {
  const limit = await limitOf(deps, repo);
  if (limit === undefined) return undefined;
  const project = projectOf(repo);
  const usage = await deps.metadata.projectUsage(project, digest);
  if (usage.counted !== true && usage.bytes + size > limit) throw quotaDenied(new QuotaExceededError(project, usage.bytes, limit, size));
  return limit;
}
