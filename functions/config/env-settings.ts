// Parsers of environment settings, shared by every process that reads one: each refuses a value it
// cannot use with a ConfigError naming the variable, the accepted values and what it got.
import { ConfigError } from './config-error.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Node timers take at most 2^31-1 ms; a longer one silently fires after 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The value, or `fallback` when the variable is unset or empty. */
export function textSetting(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

/** The value, or undefined when the variable is unset or empty. */
export function optionalSetting(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function requiredSetting(env: Env, name: string): string {
  const raw = optionalSetting(env, name);
  if (raw === undefined) throw new ConfigError(`${name} is not set`);
  return raw;
}

/** A decimal integer from min to max; `fallback` when unset or empty. */
export function intSetting(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optionalSetting(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** true/1 or false/0; `fallback` when unset or empty. */
export function flagSetting(env: Env, name: string, fallback: boolean): boolean {
  const raw = optionalSetting(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

/** One of `choices`; `fallback` when unset or empty. */
export function choiceSetting<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = optionalSetting(env, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}
