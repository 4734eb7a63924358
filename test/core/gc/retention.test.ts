// Retention (issue 16 item 4) on both backends, through the registry core and the GC run: each rule
// (keep the N most recent, older than D days, not pulled for D days) with protect patterns, the dry
// run's report per rule, a tag pushed, re-created or pulled after the rule decided (it stays), and
// the mark and sweep then freeing what only a removed tag held. The clock of the core and of GC is
// moved by days; the stores keep the real one.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetentionRule, TagRule } from '../../../functions/core/auth/model.ts';
import { collectGarbage, type GcOptions } from '../../../functions/core/gc/run.ts';
import type { GcAction, GcReport } from '../../../functions/core/gc/report.ts';
import type { RetentionPolicy } from '../../../functions/core/gc/retention.ts';
import { call, openBackend, pushImage, startAwsServices, type AwsServices, type BackendName, type GcBackend } from '../../support/gc-backends.ts';

const DAY = 86_400_000;
const KEEP_ALL: GcOptions = { graceMs: 6 * 3_600_000, untaggedMs: DAY, dryRun: false };

interface Clock {
  offset: number;
  now(): number;
}

const tagActions = (r: GcReport): GcAction[] => r.actions.filter((a) => a.kind === 'tag');
const removedTags = (r: GcReport): string[] => tagActions(r).map((a) => a.tag!).sort();
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function retentionOn(name: BackendName): void {
  let aws: AwsServices | undefined;
  beforeAll(async () => {
    if (name === 'aws') aws = await startAwsServices();
  }, 120_000);
  afterAll(async () => aws?.stop());

  async function open(): Promise<{ b: GcBackend; clock: Clock }> {
    const clock: Clock = { offset: 0, now: () => Date.now() + clock.offset };
    return { b: await openBackend(name, aws, () => clock.now()), clock };
  }
  const policy = (rules: RetentionRule[], protect: TagRule[] = []): RetentionPolicy => ({ rules, protect });
  const gc = (b: GcBackend, p: RetentionPolicy | ((repo: string) => Promise<RetentionPolicy>), options: Partial<GcOptions> = {}) =>
    collectGarbage({ ...b.gc, retention: typeof p === 'function' ? p : async () => p }, { ...KEEP_ALL, ...options });
  const status = async (b: GcBackend, repo: string, tag: string) => (await call(b.registry, 'GET', `/v2/${repo}/manifests/${tag}`)).status;
  const tagsOf = async (b: GcBackend, repo: string) => [...(await b.metadata.gcRepository(repo)).tags.keys()].sort();

  it('keep N: removes all but the N most recently tagged of the tags a rule covers; protected tags are neither removed nor counted; the dry run only reports', async () => {
    const { b, clock } = await open();
    try {
      for (const v of ['v1', 'v2', 'v3', 'v4', 'v5']) {
        await pushImage(b.registry, 'ret/keep', v, [randomBytes(200)]);
        clock.offset += 3_600_000;
      }
      await pushImage(b.registry, 'ret/keep', 'other', [randomBytes(200)]);
      const p = policy([{ repositories: 'ret/*', tags: 'v*', keep: 2 }], [{ repositories: 'ret/keep', tags: 'v1' }]);
      const dry = await gc(b, p, { dryRun: true });
      expect(removedTags(dry)).toEqual(['v2', 'v3']);
      const v2 = tagActions(dry).find((a) => a.tag === 'v2')!;
      expect(v2).toMatchObject({ action: 'delete', kind: 'tag', repo: 'ret/keep', rule: 'keep 2 of ret/*:v*' });
      expect(v2.reason).toContain('not among the 2 most recent tags matching v* (number 4');
      expect(dry.counts['delete.tag']).toBe(2);
      expect(await tagsOf(b, 'ret/keep')).toEqual(['other', 'v1', 'v2', 'v3', 'v4', 'v5']);
      const real = await gc(b, p);
      expect(removedTags(real)).toEqual(['v2', 'v3']);
      expect(await tagsOf(b, 'ret/keep')).toEqual(['other', 'v1', 'v4', 'v5']);
      expect(await status(b, 'ret/keep', 'v2')).toBe(404);
      expect(await status(b, 'ret/keep', 'v1')).toBe(200);
      // A rule for other repositories changes nothing here.
      expect(removedTags(await gc(b, policy([{ repositories: 'ret/other*', tags: '*', keep: 1 }])))).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('older than D days: removes tags last pointed at a manifest more than D days ago; a tag moved since counts from the move', async () => {
    const { b, clock } = await open();
    try {
      const pushedAt = clock.now();
      await pushImage(b.registry, 'ret/age', 'old', [randomBytes(200)]);
      await pushImage(b.registry, 'ret/age', 'moved', [randomBytes(200)]);
      clock.offset += 29 * DAY;
      await pushImage(b.registry, 'ret/age', 'moved', [randomBytes(200)]);
      await pushImage(b.registry, 'ret/age', 'young', [randomBytes(200)]);
      clock.offset += 2 * DAY;
      const report = await gc(b, policy([{ repositories: 'ret/age', tags: '*', olderThanDays: 30 }]));
      expect(removedTags(report)).toEqual(['old']);
      expect(tagActions(report)[0]).toMatchObject({ rule: 'ret/age:* older than 30 days', reason: `tagged ${day(pushedAt)}, over 30 days ago` });
      expect(await tagsOf(b, 'ret/age')).toEqual(['moved', 'young']);
    } finally {
      await b.close();
    }
  });

  it('not pulled for D days: a GET or HEAD by tag records the pull once a day; never pulled counts from the tag time', async () => {
    const { b, clock } = await open();
    try {
      for (const t of ['got', 'headed', 'never', 'by-digest']) await pushImage(b.registry, 'ret/pull', t, [randomBytes(200)]);
      const tagged = clock.now();
      clock.offset += 20 * DAY;
      const beforePull = clock.now();
      expect(await status(b, 'ret/pull', 'got')).toBe(200);
      const firstPull = (await b.metadata.gcRepository('ret/pull')).tags.get('got')?.pulledAt ?? 0;
      expect(firstPull).toBeGreaterThanOrEqual(beforePull);
      expect(firstPull).toBeLessThanOrEqual(clock.now());
      for (let i = 0; i < 2; i++) expect(await status(b, 'ret/pull', 'got')).toBe(200);
      expect((await call(b.registry, 'HEAD', '/v2/ret/pull/manifests/headed')).status).toBe(200);
      const digest = (await b.metadata.gcRepository('ret/pull')).tags.get('by-digest')!.digest;
      expect((await call(b.registry, 'GET', `/v2/ret/pull/manifests/${digest}`)).status).toBe(200);
      // One write per tag per day: the later pulls of the day left the first one's time.
      const tags = (await b.metadata.gcRepository('ret/pull')).tags;
      expect(tags.get('got')?.pulledAt).toBe(firstPull);
      expect(tags.get('headed')?.pulledAt).toBeGreaterThanOrEqual(beforePull);
      expect(tags.get('never')?.pulledAt).toBeUndefined();
      expect(tags.get('by-digest')?.pulledAt).toBeUndefined();
      clock.offset += 15 * DAY;
      const rule = policy([{ repositories: 'ret/*', tags: '*', notPulledDays: 30 }]);
      const report = await gc(b, rule);
      expect(removedTags(report)).toEqual(['by-digest', 'never']);
      expect(tagActions(report).find((a) => a.tag === 'never')?.reason).toBe(`never pulled since tagged ${day(tagged)}, over 30 days ago`);
      clock.offset += 16 * DAY;
      const later = await gc(b, rule);
      expect(removedTags(later)).toEqual(['got', 'headed']);
      expect(tagActions(later).find((a) => a.tag === 'got')).toMatchObject({ rule: 'ret/*:* not pulled for 30 days', reason: `not pulled since ${day(firstPull)}, over 30 days ago` });
    } finally {
      await b.close();
    }
  });

  it('a tag moved, re-created or pulled after the rule decided to remove it is not deleted', async () => {
    const { b, clock } = await open();
    try {
      for (const t of ['moved', 'recreated', 'pulled', 'untouched']) await pushImage(b.registry, 'ret/race', t, [randomBytes(200)]);
      clock.offset += 40 * DAY;
      const rule = policy([{ repositories: 'ret/race', tags: '*', olderThanDays: 30 }]);
      // The policy is read after the repository: what happens here happens between the read and the deletes.
      const racing = async () => {
        await pushImage(b.registry, 'ret/race', 'moved', [randomBytes(200)]);
        const again = (await call(b.registry, 'GET', '/v2/ret/race/manifests/recreated', undefined, { accept: 'application/vnd.oci.image.manifest.v1+json' }));
        expect((await call(b.registry, 'DELETE', '/v2/ret/race/manifests/recreated')).status).toBe(202);
        expect((await call(b.registry, 'PUT', '/v2/ret/race/manifests/recreated', again.body, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })).status).toBe(201);
        expect(await status(b, 'ret/race', 'pulled')).toBe(200);
        return rule;
      };
      const report = await gc(b, racing);
      expect(removedTags(report)).toEqual(['untouched']);
      expect(await tagsOf(b, 'ret/race')).toEqual(['moved', 'pulled', 'recreated']);
      // The next run decides on what it reads: the moved and re-created tags are young now; a pull
      // does not make a tag younger for this rule.
      expect(removedTags(await gc(b, rule))).toEqual(['pulled']);
    } finally {
      await b.close();
    }
  });

  it('what only a removed tag held is then freed by the mark and sweep; what another tag needs stays', async () => {
    const { b, clock } = await open();
    try {
      const shared = randomBytes(3000);
      const own = randomBytes(5000);
      const oldDigest = await pushImage(b.registry, 'ret/free', 'old', [shared, own]);
      clock.offset += 40 * DAY;
      const keptDigest = await pushImage(b.registry, 'ret/free', 'new', [shared, randomBytes(100)]);
      const report = await gc(b, policy([{ repositories: 'ret/free', tags: '*', olderThanDays: 30 }]), { graceMs: 0, untaggedMs: 0 });
      expect(removedTags(report)).toEqual(['old']);
      expect(report.counts['delete.manifest']).toBe(1);
      expect(report.bytesFreed).toBeGreaterThanOrEqual(own.length);
      expect((await call(b.registry, 'GET', `/v2/ret/free/manifests/${oldDigest}`)).status).toBe(404);
      expect((await call(b.registry, 'GET', `/v2/ret/free/manifests/${keptDigest}`)).status).toBe(200);
      const stored = await Promise.all((await b.stored()).map((o) => b.read(o.location)));
      expect(stored.some((x) => x.equals(own))).toBe(false);
      expect(stored.some((x) => x.equals(shared))).toBe(true);
    } finally {
      await b.close();
    }
  });
}

describe('retention rules in the GC run', { timeout: 120_000 }, () => {
  describe('local (SQLite + files)', () => retentionOn('local'));
  describe('aws (DynamoDB Local + s3rver)', () => retentionOn('aws'));
});
