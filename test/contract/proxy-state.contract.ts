// The ProxyStateStore contract (core/proxy/state.ts): the SQLite store of `npm start` and the
// DynamoDB one of the AWS shape both run it. `open()` gives two stores on one database or table (two
// processes, two Lambda containers) that must see each other's leases and tag checks.
import { describe, expect, it } from 'vitest';
import type { ProxyStateStore } from '../../functions/core/proxy/state.ts';
import { fetchOnce } from '../../functions/core/proxy/lease.ts';

export function proxyStateContract(name: string, open: () => Promise<{ a: ProxyStateStore; b: ProxyStateStore; close(): Promise<void> }>): void {
  describe(`ProxyStateStore contract: ${name}`, () => {
    it('a lease has one holder until it expires or is released; its holder renews it', async () => {
      const { a, b, close } = await open();
      try {
        expect(await a.lease('k', 'one', 2000, 1000)).toBe(true);
        expect(await b.lease('k', 'two', 3000, 1500)).toBe(false);
        expect(await a.lease('k', 'one', 4000, 1900)).toBe(true);
        expect(await b.lease('k', 'two', 5000, 3000)).toBe(false);
        // Expired (a dead holder): another takes it.
        expect(await b.lease('k', 'two', 6000, 4000)).toBe(true);
        // Releasing someone else's lease changes nothing.
        await a.release('k', 'one');
        expect(await a.lease('k', 'one', 7000, 4500)).toBe(false);
        await b.release('k', 'two');
        expect(await a.lease('k', 'one', 7000, 4500)).toBe(true);
        // Other keys are other leases.
        expect(await b.lease('k2', 'two', 7000, 4500)).toBe(true);
      } finally {
        await close();
      }
    });

    it('tag checks are kept per repository and tag, the last write wins', async () => {
      const { a, b, close } = await open();
      try {
        expect(await a.tagCheckedAt('p/r', 'v1')).toBeUndefined();
        await a.setTagChecked('p/r', 'v1', 10);
        await b.setTagChecked('p/r', 'v1', 20);
        expect(await a.tagCheckedAt('p/r', 'v1')).toBe(20);
        expect(await a.tagCheckedAt('p/r', 'v2')).toBeUndefined();
        expect(await a.tagCheckedAt('p/r2', 'v1')).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('fetchOnce across both stores: ten callers, one fetch, every caller served what it stored', async () => {
      const { a, b, close } = await open();
      try {
        let stored: string | undefined;
        let fetches = 0;
        const work = async () => {
          fetches++;
          await new Promise((r) => setTimeout(r, 150));
          return (stored = 'bytes');
        };
        const settings = { leaseSeconds: 10, waitSeconds: 20, pollMs: 20 };
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => fetchOnce(i % 2 ? a : b, settings, Date.now, 'b:x', async () => stored, work)));
        expect(results).toEqual(Array(10).fill('bytes'));
        expect(fetches).toBe(1);
      } finally {
        await close();
      }
    });
  });
}
