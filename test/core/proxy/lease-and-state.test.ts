// The fetch lease on the real SQLite state store: the ProxyStateStore contract (two connections, as
// two processes on one data dir), and a dead leader's lease expiring so that a waiter takes over.
import { expect, test } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteProxyState } from '../../../functions/adapters/sqlite/sqlite-proxy-state.ts';
import { fetchOnce } from '../../../functions/core/proxy/lease.ts';
import { RegistryError } from '../../../functions/core/errors.ts';
import { proxyStateContract } from '../../contract/proxy-state.contract.ts';

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

proxyStateContract('SQLite, two connections to one file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-state-'));
  const a = new SqliteProxyState(join(dir, 'registry.db'));
  const b = new SqliteProxyState(join(dir, 'registry.db'));
  return {
    a,
    b,
    close: async () => {
      a.close();
      b.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test("fetchOnce: a dead leader's lease expires and a waiter fetches instead; a waiter that waits too long gets 429 with Retry-After (clients retry it)", async (t) => {
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
  expect((err as RegistryError).status).toBe(429);
  expect((err as RegistryError).code).toBe('TOOMANYREQUESTS');
  expect((err as RegistryError).headers).toEqual({ 'retry-after': '5' });
});
