// The LoginThrottle contract: the in-process throttle of `npm start` and the table-backed one of the
// AWS shape both run it. `open()` gives two throttles that must share their counts (two Lambda
// containers of one table; the same object twice in one process).
import { describe, expect, it } from 'vitest';
import type { LoginThrottle, ThrottleLimits } from '../../functions/core/auth/login-throttle.ts';

export const CONTRACT_LIMITS: ThrottleLimits = { windowMs: 60_000, perUser: 3, perAddress: 5 };
/** A time at the start of a window (a fixed-window throttle counts from there). */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % CONTRACT_LIMITS.windowMs);

export function loginThrottleContract(name: string, open: () => Promise<{ a: LoginThrottle; b: LoginThrottle; close?: () => Promise<void> }>): void {
  describe(`LoginThrottle contract: ${name}`, () => {
    it('past the per-user limit a user waits (at most one window), counted across both throttles; other users and a later window go on', async () => {
      const { a, b, close } = await open();
      try {
        expect(await a.retryAfter('alice', '192.0.2.1', T0)).toBe(0);
        await a.failed('alice', '192.0.2.1', T0);
        await b.failed('alice', '192.0.2.2', T0 + 1000);
        expect(await a.retryAfter('alice', '192.0.2.3', T0 + 2000)).toBe(0);
        await b.failed('alice', '192.0.2.3', T0 + 2000);
        for (const t of [a, b]) {
          const wait = await t.retryAfter('alice', '192.0.2.9', T0 + 3000);
          expect(wait).toBeGreaterThan(0);
          expect(wait).toBeLessThanOrEqual(CONTRACT_LIMITS.windowMs / 1000);
        }
        expect(await a.retryAfter('bob', '192.0.2.9', T0 + 3000)).toBe(0);
        expect(await b.retryAfter('alice', '192.0.2.9', T0 + 2 * CONTRACT_LIMITS.windowMs + 3000)).toBe(0);
      } finally {
        await close?.();
      }
    });

    it('past the per-address limit every user from that address waits; 20 failures at once are all counted', async () => {
      const { a, b, close } = await open();
      try {
        const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
        await Promise.all(users.map((u, i) => (i % 2 ? a : b).failed(u, '198.51.100.7', T0 + i)));
        expect(await a.retryAfter('someone-else', '198.51.100.7', T0 + 100)).toBeGreaterThan(0);
        expect(await a.retryAfter('someone-else', '198.51.100.8', T0 + 100)).toBe(0);
        await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).failed('carol', `203.0.113.${i}`, T0 + i)));
        // 20 failures: still waiting near the end of the window, as 20 > the limit whatever the order.
        expect(await b.retryAfter('carol', '203.0.113.250', T0 + CONTRACT_LIMITS.windowMs - 1000)).toBeGreaterThan(0);
      } finally {
        await close?.();
      }
    });
  });
}
