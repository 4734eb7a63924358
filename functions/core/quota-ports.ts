// Storage quotas per project (docs/quotas.md): what the metadata store says of a project's usage
// (MetadataStore.projectUsage) and of what a repository's links add up to (repositorySize), and
// throws when a link write would go beyond the project's limit.

export interface ProjectUsage {
  bytes: number;
  blobs: number;
  /** With a digest asked: whether the project counts it already. */
  counted?: boolean;
}

/** What a repository's blob links add up to (MetadataStore.repositorySize, docs/api.md). */
export interface RepositorySize {
  /** The summed sizes of the distinct blobs the repository links (a blob other repositories link counts in each of them). */
  bytes: number;
  blobs: number;
  /** False when the store stopped at its limit of links read: bytes and blobs are then those of the links read. */
  complete: boolean;
}

/** Thrown by a link write that would take the project beyond its quota; nothing was written. */
export class QuotaExceededError extends Error {
  readonly project: string;
  readonly used: number;
  readonly limit: number;
  readonly size: number;
  constructor(project: string, used: number, limit: number, size: number) {
    super(`project ${project} would exceed its storage quota: ${used} bytes used, ${size} more, limit ${limit}`);
    this.name = 'QuotaExceededError';
    this.project = project;
    this.used = used;
    this.limit = limit;
    this.size = size;
  }
}
