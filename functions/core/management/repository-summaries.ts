// What the project view shows per repository (GET /api/v1/projects/{project}/repositories): its tag
// count, from one tag-list read of at most 100 (`moreTags` when there are more), and its last push and
// pull count, from ONE read of the project's audit trail: its newest 1,000 entries (docs/api.md). So
// a repository last pushed, or pulled, before those entries shows no push (null) and only the pulls
// counted in them. Without an audit trail (or when it cannot be read) both are null, never 0.
// Its size: the distinct blobs it links, summed from its link records, which carry each blob's size
// (MetadataStore.repositorySize: one DynamoDB Query of at most SUMMARY_SIZE_LINKS links); a blob
// other repositories link counts in each. Null where the store cannot tell.
import type { AuditEntry, AuditLog } from '../audit.ts';
import type { MetadataStore } from '../ports.ts';

/** Tags counted per repository (one listTags read); beyond it `moreTags` says so. */
export const SUMMARY_TAG_LIMIT = 100;
/** The project's newest audit entries read for last pushes and pull counts. */
export const SUMMARY_AUDIT_WINDOW = 1000;
/** Links read per repository for its size; beyond it `sizeComplete` is false. */
export const SUMMARY_SIZE_LINKS = 10_000;
/** Repositories whose tags and size are being read at once (a page may hold 1,000 repositories). */
export const SUMMARY_READS_AT_ONCE = 16;

export interface RepositorySummary {
  name: string;
  /** Tags counted, at most SUMMARY_TAG_LIMIT. */
  tags: number;
  /** More tags than counted. */
  moreTags: boolean;
  /** ISO time of the newest push in the audit window; null: none there, or no audit trail. */
  lastPush: string | null;
  /** Pulls counted in the audit window; null: no audit trail. */
  pulls: number | null;
  /** Bytes of the distinct blobs the repository links; null: the store cannot tell. */
  size: number | null;
  /** Every link was read (false: size is that of the first SUMMARY_SIZE_LINKS links). */
  sizeComplete: boolean;
}

interface Activity {
  lastPush: Map<string, number>;
  pulls: Map<string, number>;
}

/** Last push time and pull count per repository of the entries (other repositories' are kept apart, entries with none skipped). */
export function activityOf(entries: readonly AuditEntry[]): Activity {
  const activity: Activity = { lastPush: new Map(), pulls: new Map() };
  for (const e of entries) {
    const repo = e.repository;
    if (repo === undefined) continue;
    if (e.action === 'push') activity.lastPush.set(repo, Math.max(activity.lastPush.get(repo) ?? -Infinity, e.time));
    const count = e.detail?.count;
    if (e.action === 'pull.count' && typeof count === 'number') activity.pulls.set(repo, (activity.pulls.get(repo) ?? 0) + count);
  }
  return activity;
}

async function readActivity(audit: AuditLog | undefined, project: string): Promise<Activity | undefined> {
  if (!audit) return undefined;
  try {
    return activityOf(await audit.list({ project, limit: SUMMARY_AUDIT_WINDOW }));
  } catch {
    // The listing stays useful without the trail: its fields read null, as where there is none.
    return undefined;
  }
}

async function mapAtMost<T, R>(items: readonly T[], atOnce: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker));
  return out;
}

/** The summaries of `names` (repositories of `project`), in their order. */
export async function repositorySummaries(metadata: MetadataStore, audit: AuditLog | undefined, project: string, names: readonly string[]): Promise<RepositorySummary[]> {
  if (names.length === 0) return [];
  const [activity, reads] = await Promise.all([
    readActivity(audit, project),
    mapAtMost(names, SUMMARY_READS_AT_ONCE, (name) => Promise.all([
      metadata.listTags(name, SUMMARY_TAG_LIMIT),
      metadata.repositorySize?.(name, SUMMARY_SIZE_LINKS),
    ])),
  ]);
  return names.map((name, i) => {
    const pushed = activity?.lastPush.get(name);
    const [tags, size] = reads[i]!;
    return {
      name,
      tags: tags.items.length,
      moreTags: tags.more,
      lastPush: pushed === undefined ? null : new Date(pushed).toISOString(),
      pulls: activity ? activity.pulls.get(name) ?? 0 : null,
      size: size ? size.bytes : null,
      sizeComplete: size ? size.complete : false,
    };
  });
}
