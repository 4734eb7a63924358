// The local server's settings, read from the environment, and the one-line errors a bad setting or an
// unusable machine resource (port, data dir) is reported with instead of a stack trace.
import { resolve } from 'node:path';
import type { LocalConfig } from './server.ts';

/** Exit status for a configuration error (sysexits' EX_CONFIG), so a supervisor can tell it from a crash. */
export const EXIT_CONFIG = 78;

/**
 * A problem the person starting the registry can fix. The message is one line saying what is wrong
 * and which setting to change; main prints it without a stack trace and exits with EXIT_CONFIG.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Node timers take at most 2^31-1 ms; a longer one silently fires after 1 ms. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Shortest accepted signing secret, in bytes (TokenSigner refuses shorter keys). */
export const MIN_SECRET_BYTES = 16;

type Env = Record<string, string | undefined>;

function intEnv(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function secretEnv(env: Env): string | undefined {
  const secret = env.REGISTRY_SECRET;
  if (!secret) return undefined;
  const bytes = Buffer.byteLength(secret);
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `REGISTRY_SECRET is ${bytes} bytes long, it must be at least ${MIN_SECRET_BYTES}: set a longer one (e.g. \`openssl rand -hex 32\`) or unset it to use the generated one`,
    );
  }
  return secret;
}

/** The settings `npm start` runs with; `defaultDataDir` is `./data` in the project folder. */
export function readConfig(env: Env, defaultDataDir: string): LocalConfig {
  return {
    host: env.HOST || '127.0.0.1',
    port: intEnv(env, 'PORT', 5000, 0, 65535),
    dataDir: resolve(env.REGISTRY_DATA_DIR || defaultDataDir),
    secret: secretEnv(env),
    uploadTtlSeconds: intEnv(env, 'REGISTRY_UPLOAD_TTL_SECONDS', 24 * 3600, 1, 365 * 24 * 3600),
    sweepIntervalSeconds: intEnv(env, 'REGISTRY_SWEEP_INTERVAL_SECONDS', 600, 1, MAX_TIMER_SECONDS),
    idleTimeoutSeconds: intEnv(env, 'REGISTRY_IDLE_TIMEOUT_SECONDS', 300, 0, MAX_TIMER_SECONDS),
  };
}

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/** Why listening on host:port failed, as a one-line ConfigError; undefined for a failure that is not the setting's. */
export function listenError(e: unknown, host: string, port: number): ConfigError | undefined {
  switch (codeOf(e)) {
    case 'EADDRINUSE':
      return new ConfigError(`port ${port} on ${host} is in use: stop what is listening there or set PORT to a free port`);
    case 'EACCES':
    case 'EPERM':
      return new ConfigError(`no permission to listen on port ${port} (ports below 1024 need privileges): set PORT to 1024 or above`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses, 127.0.0.1 or 0.0.0.0`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new ConfigError(`HOST ${host} does not resolve to an address: set HOST to an IP address such as 127.0.0.1 or 0.0.0.0`);
    default:
      return undefined;
  }
}

const DATA_DIR_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'path too long',
  ELOOP: 'too many symbolic links',
};

/**
 * Why the data dir could not be prepared (created, its secret, database or subfolders written), as a
 * one-line ConfigError; undefined for a failure that says nothing about the data dir.
 */
export function dataDirError(e: unknown, dataDir: string): ConfigError | undefined {
  if (e instanceof ConfigError) return e;
  const code = codeOf(e);
  let reason = code === undefined ? undefined : DATA_DIR_REASONS[code];
  if (reason === undefined && code === 'ERR_SQLITE_ERROR') reason = `database: ${(e as Error).message}`;
  if (reason === undefined) return undefined;
  const path = (e as NodeJS.ErrnoException).path;
  const where = path && path !== dataDir ? ` at ${path}` : '';
  return new ConfigError(`data dir ${dataDir} is not usable (${reason}${where}): set REGISTRY_DATA_DIR to a directory this user can write, or fix its permissions`);
}
