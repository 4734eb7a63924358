// The fetch lease on the real SQLite state store: one holder at a time, renewals, a dead leader's
// lease expiring so that a waiter takes over, and waiters served what the leader stored.
import { expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteProxyState } from '../../../functions/adapters/sqlite/sqlite-proxy-state.ts';
import { fetchOnce } from '../../../functions/core/proxy/lease.ts';
import { RegistryError } from '../../../functions/core/errors.ts';

async function openState(t: { onTestFinished(fn: () => unknown): void }): Promise<{ a: SqliteProxyState; b: SqliteProxyState }> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-state-'));
  // Two connections to one file, as two processes on one data dir.
  const a = new SqliteProxyState(join(dir, 'registry.db'));
  const b = new SqliteProxyState(join(dir, 'registry.db'));
  t.onTestFinished(async () => {
    a.close();
    b.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { a, b };
}

test('a lease has one holder until it expires or is released; its holder renews it', async (t) => {
  const { a, b } = await openState(t);
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
});

test('tag checks are kept per repository and tag', async (t) => {
  const { a, b } = await openState(t);
  expect(await a.tagCheckedAt('p/r', 'v1')).toBeUndefined();
  await a.setTagChecked('p/r', 'v1', 10);
  await b.setTagChecked('p/r', 'v1', 20);
  expect(await a.tagCheckedAt('p/r', 'v1')).toBe(20);
  expect(await a.tagCheckedAt('p/r', 'v2')).toBeUndefined();
});

test('fetchOnce: ten callers at once, one fetch; the others get what it stored', async (t) => {
  const { a } = await openState(t);
  let stored: string | undefined;
  let fetches = 0;
  const work = async () => {
    fetches++;
    await new Promise((r) => setTimeout(r, 100));
    stored = 'bytes';
    return stored;
  };
  const results = await Promise.all(Array.from({ length: 10 }, () => fetchOnce(a, { leaseSeconds: 10, waitSeconds: 10, pollMs: 10 }, Date.now, 'b:x', async () => stored, work)));
  expect(results).toEqual(Array(10).fill('bytes'));
  expect(fetches).toBe(1);
});

test("fetchOnce: a dead leader's lease expires and a waiter fetches instead; a waiter that waits too long gets 503", async (t) => {
  const { a, b } = await openState(t);
  // The leader took the lease for 300 ms and died (never released, never stored).
  expect(await a.lease('b:y', 'dead', Date.now() + 300, Date.now())).toBe(true);
  const started = Date.now();
  const got = await fetchOnce(b, { leaseSeconds: 10, waitSeconds: 10, pollMs: 20 }, Date.now, 'b:y', async () => undefined, async () => 'fetched');
  expect(got).toBe('fetched');
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);

  expect(await a.lease('b:z', 'busy', Date.now() + 60_000, Date.now())).toBe(true);
  const err = await fetchOnce(b, { leaseSeconds: 10, waitSeconds: 0.2, pollMs: 20 }, Date.now, 'b:z', async () => undefined, async () => 'never').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).status).toBe(503);
});
