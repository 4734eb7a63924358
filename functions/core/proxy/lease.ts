// One upstream fetch per manifest or blob, whoever asks and wherever it runs: the first request takes a
// lease in the metadata store and fetches; the others poll storage until what it fetched is there (or
// its lease is gone: a leader that failed or died, whose lease then expires, is replaced by one of them).
import { randomUUID } from 'node:crypto';
import { RegistryError } from '../errors.ts';
import type { ProxyStateStore } from './state.ts';

export interface LeaseSettings {
  /** A fetch lease lasts this long; its holder renews it every third of it while it works. */
  leaseSeconds: number;
  /** How long a request waits for another's fetch before it answers 503 (retry). */
  waitSeconds: number;
  /** How often a waiting request looks for the stored result. */
  pollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `lookup()`'s answer once it has one: fetched here (`work`, under the lease `key`) or by another
 * request holding the lease meanwhile. Undefined when the leader found nothing upstream.
 */
export async function fetchOnce<T>(
  state: ProxyStateStore,
  settings: LeaseSettings,
  now: () => number,
  key: string,
  lookup: () => Promise<T | undefined>,
  work: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const leaseMs = settings.leaseSeconds * 1000;
  const deadline = now() + settings.waitSeconds * 1000;
  for (;;) {
    const holder = randomUUID();
    const t = now();
    if (await state.lease(key, holder, t + leaseMs, t)) {
      const renew = setInterval(() => void state.lease(key, holder, now() + leaseMs, now()).catch(() => undefined), leaseMs / 3);
      renew.unref();
      try {
        // Stored by a leader that finished between this request's look and its lease.
        return (await lookup()) ?? (await work());
      } finally {
        clearInterval(renew);
        await state.release(key, holder).catch(() => undefined);
      }
    }
    if (now() >= deadline) {
      // 429 with Retry-After, not 503: skopeo (containers/image) and containerd retry a 429 on a blob
      // GET after Retry-After and fail the pull on a 503 (measured with skopeo 1.9 and containerd 1.6).
      throw new RegistryError('TOOMANYREQUESTS', { reason: 'another request is fetching this from the upstream; try again' }, { headers: { 'retry-after': '5' } });
    }
    await sleep(settings.pollMs);
    const hit = await lookup();
    if (hit !== undefined) return hit;
  }
}
