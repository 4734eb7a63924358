// Durations as people write them in settings and flags: `6h`, `30m`, `90s`, `500ms`, `2d`, `0`.
import { ConfigError } from './config-error.ts';
import { optionalSetting, type Env } from './env-settings.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2] ?? (Number(m[1]) === 0 ? 'ms' : 's')]!;
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}

/** A duration setting (`6h`); `fallback` ms when unset or empty. */
export function durationSetting(env: Env, name: string, fallback: number): number {
  const raw = optionalSetting(env, name);
  if (raw === undefined) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ConfigError(`${name} must be a duration such as 6h, 30m, 90s or 0, got ${JSON.stringify(raw)}`);
  return ms;
}
