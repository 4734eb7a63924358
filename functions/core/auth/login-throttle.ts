// Failed logins, counted per user name and per client address (failures only): past the limit, a
// login is answered 429 with Retry-After before any password hash is computed, so guessing costs the
// guesser time and the registry nothing. The port is async: `npm start` counts in its one process
// (MemoryLoginThrottle, a sliding window); in AWS every Lambda container and region counts in the
// table (adapters/dynamodb/dynamo-login-throttle.ts), so spreading guesses over containers gains nothing.
export interface LoginThrottle {
  /** Seconds to wait before `user` may try again from `address`; 0 when it may now. */
  retryAfter(user: string, address: string, now?: number): Promise<number>;
  /** Counts one failed login of `user` from `address`. */
  failed(user: string, address: string, now?: number): Promise<void>;
}

export interface ThrottleLimits {
  windowMs: number;
  perUser: number;
  perAddress: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { windowMs: 5 * 60_000, perUser: 10, perAddress: 30 };

export class MemoryLoginThrottle implements LoginThrottle {
  readonly #limits: ThrottleLimits;
  readonly #failures = new Map<string, number[]>();

  constructor(limits: ThrottleLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#limits.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  async retryAfter(user: string, address: string, now = Date.now()): Promise<number> {
    let wait = 0;
    for (const [key, limit] of [[`u:${user}`, this.#limits.perUser], [`a:${address}`, this.#limits.perAddress]] as const) {
      const list = this.#recent(key, now);
      if (list.length >= limit) wait = Math.max(wait, list[list.length - limit]! + this.#limits.windowMs - now);
    }
    return Math.ceil(wait / 1000);
  }

  async failed(user: string, address: string, now = Date.now()): Promise<void> {
    for (const key of [`u:${user}`, `a:${address}`]) {
      const list = this.#recent(key, now);
      list.push(now);
      this.#failures.set(key, list);
    }
    // Bounded: a flood of distinct names cannot grow the map without end.
    if (this.#failures.size > 100_000) this.#failures.clear();
  }
}
