// What the retention rules decide from a repository's tags (core/gc/retention.ts), without a store:
// the first rule that removes a tag names it, protect patterns win and are not counted by keep, rules
// apply only to their repositories, and a recorded pull counts until the end of its UTC day.
import { describe, expect, it } from 'vitest';
import { planRetention } from '../../../functions/core/gc/retention.ts';
import type { TagState } from '../../../functions/core/ports.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);
const tag = (digest: string, taggedAt: number, pulledAt?: number): TagState => ({ digest, taggedAt, ...(pulledAt === undefined ? {} : { pulledAt }) });

describe('planRetention', () => {
  it('names the first rule that removes a tag; keep ranks newest first, ties by name; protect wins and is not counted', () => {
    const tags = new Map([['a', tag('d1', T0)], ['b', tag('d2', T0)], ['c', tag('d3', T0 + DAY)], ['latest', tag('d3', T0 + 2 * DAY)]]);
    const removed = planRetention('p/app', tags, {
      rules: [{ repositories: 'p/*', tags: '*', keep: 1 }, { repositories: 'p/*', tags: '*', olderThanDays: 1 }],
      protect: [{ repositories: 'p/app', tags: 'latest' }],
    }, T0 + 3 * DAY);
    expect(removed.map((r) => [r.tag, r.rule])).toEqual([['a', 'keep 1 of p/*:*'], ['b', 'keep 1 of p/*:*'], ['c', 'p/*:* older than 1 days']]);
    expect(removed[0]!.reason).toBe('not among the 1 most recent tags matching * (number 2, tagged 2026-10-01)');
    expect(removed[0]!.seen).toEqual(tag('d1', T0));
  });

  it('applies a rule only to the repositories and tags its patterns cover', () => {
    const tags = new Map([['v1', tag('d1', T0)], ['pr-1', tag('d2', T0)]]);
    const rules = [{ repositories: 'p/other', tags: '*', olderThanDays: 1 }, { repositories: 'p/*', tags: 'pr-*', olderThanDays: 1 }];
    expect(planRetention('p/app', tags, { rules, protect: [] }, T0 + 2 * DAY).map((r) => r.tag)).toEqual(['pr-1']);
    expect(planRetention('p/app', tags, { rules, protect: [] }, T0 + DAY / 2)).toEqual([]);
  });

  it('counts a recorded pull until the end of its UTC day, and a tag never pulled from its tag time', () => {
    const pulled = T0 + 8 * 3_600_000; // 08:00 on 2026-10-01: a pull at 23:00 that day was not recorded
    const tags = new Map([['pulled', tag('d1', T0 - 10 * DAY, pulled)], ['never', tag('d2', T0 + 21 * 3_600_000)]]);
    const policy = { rules: [{ repositories: '*', tags: '*', notPulledDays: 30 }], protect: [] };
    expect(planRetention('p/app', tags, policy, T0 + 30 * DAY + 20 * 3_600_000)).toEqual([]);
    const later = planRetention('p/app', tags, policy, T0 + 31 * DAY + 1);
    expect(later.map((r) => [r.tag, r.reason])).toEqual([
      ['pulled', 'not pulled since 2026-10-01, over 30 days ago'],
      ['never', 'never pulled since tagged 2026-10-01, over 30 days ago'],
    ]);
  });
});
