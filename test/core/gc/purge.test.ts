// What a GC run tells the shared cache to forget (core/gc/report.ts): the repositories whose tags,
// manifests or links it deleted, each once; every repository past MAX_PURGED_REPOS; nothing for a
// dry run or for deletes of storage alone; carried across passes by mergeReports.
import { describe, expect, it } from 'vitest';
import { emptyReport, MAX_PURGED_REPOS, mergeReports, purgePaths, recordAction, type GcReport } from '../../../functions/core/gc/report.ts';

const report = (dryRun = false): GcReport => emptyReport(dryRun, 0, 0, 0);
const del = (r: GcReport, kind: 'tag' | 'manifest' | 'link', repo: string) => recordAction(r, { action: 'delete', kind, repo, digest: 'sha256:x', bytes: 1, reason: 'test' });

describe('the purge a GC run asks for', () => {
  it('each repository with a deleted tag, manifest or link, once, as one wildcard path', () => {
    const r = report();
    del(r, 'tag', 'team/a');
    del(r, 'manifest', 'team/a');
    del(r, 'link', 'team/b');
    expect(purgePaths(r)).toEqual(['/v2/team/a/*', '/v2/team/b/*']);
  });

  it('nothing for marks, unmarks, blob and stored-object deletes (no repository answer changed)', () => {
    const r = report();
    recordAction(r, { action: 'mark', kind: 'manifest', repo: 'team/a', digest: 'sha256:x', bytes: 1, reason: 'test' });
    recordAction(r, { action: 'unmark', kind: 'link', repo: 'team/a', digest: 'sha256:x', bytes: 1, reason: 'test' });
    recordAction(r, { action: 'delete', kind: 'blob', digest: 'sha256:x', bytes: 1, reason: 'test' });
    recordAction(r, { action: 'delete', kind: 'stored', location: 'blobs/x', bytes: 1, reason: 'test' });
    expect(r.purge).toBeUndefined();
    expect(purgePaths(r)).toEqual([]);
  });

  it('nothing for a dry run, whatever it would delete', () => {
    const r = report(true);
    del(r, 'tag', 'team/a');
    expect(purgePaths(r)).toEqual([]);
  });

  it(`past ${MAX_PURGED_REPOS} repositories, one path for all of /v2/ (CloudFront allows 15 wildcard paths in progress)`, () => {
    const r = report();
    for (let i = 0; i < MAX_PURGED_REPOS; i++) del(r, 'manifest', `team/r${i}`);
    expect(purgePaths(r)).toHaveLength(MAX_PURGED_REPOS);
    del(r, 'manifest', 'team/r0');
    expect(purgePaths(r), 'a repository already noted does not count twice').toHaveLength(MAX_PURGED_REPOS);
    del(r, 'manifest', 'team/one-more');
    expect(purgePaths(r)).toEqual(['/v2/*']);
    del(r, 'tag', 'team/later');
    expect(purgePaths(r)).toEqual(['/v2/*']);
  });

  it('passes merge: repositories of each pass, and "all" from any pass wins', () => {
    const total = report();
    const one = report();
    del(one, 'tag', 'team/a');
    const two = report();
    del(two, 'tag', 'team/b');
    del(two, 'tag', 'team/a');
    mergeReports(total, one);
    mergeReports(total, two);
    mergeReports(total, report());
    expect(purgePaths(total)).toEqual(['/v2/team/a/*', '/v2/team/b/*']);
    const many = report();
    for (let i = 0; i <= MAX_PURGED_REPOS; i++) del(many, 'link', `team/m${i}`);
    mergeReports(total, many);
    expect(purgePaths(total)).toEqual(['/v2/*']);
  });
});
