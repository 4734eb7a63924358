// repositorySummaries (functions/core/management/repository-summaries.ts): one tag-list read of at
// most 100 per repository, and one read of the project's newest 1,000 audit entries for the last push
// and the pull count of every repository of the page; null for both without an audit trail; one size
// read of at most 10,000 links per repository (null where the store has no repositorySize).
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog, AuditQuery } from '../../../functions/core/audit.ts';
import type { MetadataStore, Page } from '../../../functions/core/ports.ts';
import type { RepositorySize } from '../../../functions/core/quota-ports.ts';
import { repositorySummaries, SUMMARY_AUDIT_WINDOW, SUMMARY_READS_AT_ONCE, SUMMARY_SIZE_LINKS, SUMMARY_TAG_LIMIT } from '../../../functions/core/management/repository-summaries.ts';

/**
 * Only listTags is read, and repositorySize when `sizes` is given (a store without it otherwise);
 * they answer from `tags` and `sizes` and record each call.
 */
function fakeMetadata(tags: Record<string, Page<string>>, sizes?: Record<string, RepositorySize>) {
  const calls: [string, number, string | undefined][] = [];
  const sizeCalls: [string, number][] = [];
  // Reads in flight per repository, and the most repositories being read at once.
  const reading = new Map<string, number>();
  const most = { repositories: 0 };
  const read = async <T>(repo: string, answer: T): Promise<T> => {
    reading.set(repo, (reading.get(repo) ?? 0) + 1);
    most.repositories = Math.max(most.repositories, reading.size);
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (reading.get(repo) === 1) reading.delete(repo);
    else reading.set(repo, reading.get(repo)! - 1);
    return answer;
  };
  const store = {
    listTags: async (repo: string, limit: number, last?: string) => {
      calls.push([repo, limit, last]);
      return read(repo, tags[repo] ?? { items: [], more: false });
    },
    ...(sizes === undefined ? {} : {
      repositorySize: async (repo: string, maxLinks: number) => {
        sizeCalls.push([repo, maxLinks]);
        return read(repo, sizes[repo] ?? { bytes: 0, blobs: 0, complete: true });
      },
    }),
  } as Pick<MetadataStore, 'listTags' | 'repositorySize'> as MetadataStore;
  return { store, calls, sizeCalls, most };
}

function fakeAudit(entries: AuditEntry[], fail = false) {
  const queries: AuditQuery[] = [];
  const log: AuditLog = {
    append: async () => undefined,
    list: async (q) => {
      queries.push(q);
      if (fail) throw new Error('throttled');
      return entries;
    },
    projects: async () => [],
  };
  return { log, queries };
}

let id = 0;
const entry = (action: AuditEntry['action'], repository: string | undefined, time: number, detail?: AuditEntry['detail']): AuditEntry => ({
  id: String(id++), time, action, actor: 'alice', address: '', project: 'team', ...(repository ? { repository } : {}), ...(detail ? { detail } : {}),
});
const at = (iso: string) => Date.parse(iso);

describe('repositorySummaries', () => {
  const tags = { 'team/app': { items: ['a', 'b'], more: false }, 'team/big': { items: Array.from({ length: 100 }, (_, i) => `t${i}`), more: true } };

  it('without an audit trail: tag counts, and null (not 0) for the last push and the pulls', async () => {
    const { store, calls } = fakeMetadata(tags);
    expect(await repositorySummaries(store, undefined, 'team', ['team/app', 'team/big', 'team/empty'])).toEqual([
      { name: 'team/app', tags: 2, moreTags: false, lastPush: null, pulls: null, size: null, sizeComplete: false },
      { name: 'team/big', tags: 100, moreTags: true, lastPush: null, pulls: null, size: null, sizeComplete: false },
      { name: 'team/empty', tags: 0, moreTags: false, lastPush: null, pulls: null, size: null, sizeComplete: false },
    ]);
    expect(calls).toEqual([['team/app', SUMMARY_TAG_LIMIT, undefined], ['team/big', SUMMARY_TAG_LIMIT, undefined], ['team/empty', SUMMARY_TAG_LIMIT, undefined]]);
  });

  it('one audit read for the page: the newest push per repository, pull counts summed, other repositories\' and other actions\' entries ignored', async () => {
    const { store } = fakeMetadata(tags);
    const { log, queries } = fakeAudit([
      entry('pull.count', 'team/app', at('2026-12-05T10:00:00Z'), { count: 4, from: '2026-12-05T09:59:00Z' }),
      entry('push', 'team/app', at('2026-12-05T09:00:00Z'), { digest: 'sha256:1' }),
      entry('tag.delete', 'team/app', at('2026-12-05T11:00:00Z')),
      entry('push', 'team/other', at('2026-12-05T12:00:00Z')),
      entry('pull.count', 'team/other', at('2026-12-05T12:00:00Z'), { count: 50 }),
      entry('pull.count', 'team/app', at('2026-12-04T10:00:00Z'), { count: 3 }),
      entry('push', 'team/app', at('2026-12-05T09:30:00Z')),
      entry('push', 'team/app', at('2026-12-01T09:00:00Z')),
      entry('pull.count', 'team/app', at('2026-12-03T10:00:00Z'), { count: 'many' }),
      entry('admin.member.set', undefined, at('2026-12-05T13:00:00Z'), { count: 9 }),
    ]);
    expect(await repositorySummaries(store, log, 'team', ['team/app', 'team/big'])).toEqual([
      { name: 'team/app', tags: 2, moreTags: false, lastPush: '2026-12-05T09:30:00.000Z', pulls: 7, size: null, sizeComplete: false },
      { name: 'team/big', tags: 100, moreTags: true, lastPush: null, pulls: 0, size: null, sizeComplete: false },
    ]);
    expect(queries).toEqual([{ project: 'team', limit: SUMMARY_AUDIT_WINDOW }]);
    expect(SUMMARY_AUDIT_WINDOW).toBe(1000);
  });

  it('an audit trail that cannot be read leaves the listing whole, with null as where there is none', async () => {
    const { store } = fakeMetadata(tags);
    const { log } = fakeAudit([], true);
    expect(await repositorySummaries(store, log, 'team', ['team/app'])).toEqual([{ name: 'team/app', tags: 2, moreTags: false, lastPush: null, pulls: null, size: null, sizeComplete: false }]);
  });

  it('a store with repositorySize: each repository\'s size from one read of at most 10,000 links, sizeComplete false past them', async () => {
    const { store, calls, sizeCalls } = fakeMetadata(tags, {
      'team/app': { bytes: 48_213_504, blobs: 7, complete: true },
      'team/big': { bytes: 9_126_805_504, blobs: SUMMARY_SIZE_LINKS, complete: false },
    });
    expect(await repositorySummaries(store, undefined, 'team', ['team/app', 'team/big', 'team/empty'])).toEqual([
      { name: 'team/app', tags: 2, moreTags: false, lastPush: null, pulls: null, size: 48_213_504, sizeComplete: true },
      { name: 'team/big', tags: 100, moreTags: true, lastPush: null, pulls: null, size: 9_126_805_504, sizeComplete: false },
      { name: 'team/empty', tags: 0, moreTags: false, lastPush: null, pulls: null, size: 0, sizeComplete: true },
    ]);
    expect(sizeCalls).toEqual([['team/app', SUMMARY_SIZE_LINKS], ['team/big', SUMMARY_SIZE_LINKS], ['team/empty', SUMMARY_SIZE_LINKS]]);
    expect(calls.map((c) => c[0])).toEqual(['team/app', 'team/big', 'team/empty']);
    expect(SUMMARY_SIZE_LINKS).toBe(10_000);
  });

  it('an empty page reads nothing', async () => {
    const { store, calls, sizeCalls } = fakeMetadata(tags, {});
    const { log, queries } = fakeAudit([]);
    expect(await repositorySummaries(store, log, 'team', [])).toEqual([]);
    expect([calls, sizeCalls, queries]).toEqual([[], [], []]);
  });

  it('a page of many repositories reads every one\'s tags and size, in the page\'s order, 16 repositories at a time (both reads of each together)', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `team/r${String(i).padStart(2, '0')}`);
    const { store, calls, sizeCalls, most } = fakeMetadata(
      Object.fromEntries(names.map((n, i) => [n, { items: Array.from({ length: i }, (_, j) => `t${j}`), more: false }])),
      Object.fromEntries(names.map((n, i) => [n, { bytes: i * 1000, blobs: i, complete: true }])),
    );
    const summaries = await repositorySummaries(store, undefined, 'team', names);
    expect(summaries.map((s) => [s.name, s.tags, s.size])).toEqual(names.map((n, i) => [n, i, i * 1000]));
    expect(calls.map((c) => c[0]).sort()).toEqual(names);
    expect(sizeCalls.map((c) => c[0]).sort()).toEqual(names);
    expect(most.repositories).toBe(SUMMARY_READS_AT_ONCE);
    expect(SUMMARY_READS_AT_ONCE).toBe(16);
  });
});
