// The local server's settings, read from the environment, and the one-line error a data dir that
// cannot be used is reported with instead of a stack trace.
import { resolve } from 'node:path';
import { ConfigError } from '../../config/config-error.ts';
import { choiceSetting, intSetting, MAX_TIMER_SECONDS, optionalSetting, type Env } from '../../config/env-settings.ts';
import { durationSetting } from '../../config/duration.ts';
import { oidcSettings, type OidcSettings } from '../../config/oidc-settings.ts';
import { GC_DEFAULTS } from '../../core/gc/run.ts';
import { MIN_SECRET_BYTES } from './secret.ts';
import type { LocalProxyConfig } from './proxy.ts';
import { proxySettings } from '../../config/proxy-settings.ts';


export interface LocalConfig {
  host: string;
  port: number;
  dataDir: string;
  /** HMAC key for upload tokens and blob URLs; generated and kept in the data dir when absent. */
  secret?: string;
  uploadTtlSeconds: number;
  /** How often expired upload sessions are purged. */
  sweepIntervalSeconds: number;
  /**
   * A connection that waits this long on its client (one that stopped reading or sending) is closed,
   * so stalled clients cannot pin memory and files for the hour a request may take. A connection the
   * server itself is still working on is kept; an idle keep-alive connection closes after 65 s anyway.
   */
  idleTimeoutSeconds: number;
  auth: LocalAuthConfig;
  /** Garbage collection on a timer (REGISTRY_GC_INTERVAL); undefined: off (`npm run gc` by hand). */
  gc?: { intervalMs: number; graceMs: number; untaggedMs: number };
  /** The pull-through cache (proxy projects): the mirror project and the fetch leases. */
  proxy: LocalProxyConfig;
}

export interface LocalAuthConfig {
  /** Docker token authentication on (users, projects, robots of `npm run admin`). */
  on: boolean;
  /** The registry's public base URL (the token realm is `<url>/token`); undefined: the address it listens on. */
  url?: string;
  /** The token service name (`aud`); default: the host of `url`, else "oci-registry". */
  service: string;
  refreshTokenSeconds: number;
  /** Keyless CI (docs/auth.md): the `aud` ID tokens must carry, and where GitHub's discovery document is. */
  oidc: OidcSettings;
}

/** The timer's grace may not be below this: a request in flight must never see its blobs collected. */
const MIN_TIMER_GRACE_MS = 1000;

function readGc(env: Env): LocalConfig['gc'] {
  const intervalMs = durationSetting(env, 'REGISTRY_GC_INTERVAL', 0);
  if (intervalMs === 0) return undefined;
  if (intervalMs < 1000 || intervalMs > MAX_TIMER_SECONDS * 1000) throw new ConfigError(`REGISTRY_GC_INTERVAL must be from 1s to ${MAX_TIMER_SECONDS}s (or 0: off), got ${JSON.stringify(env.REGISTRY_GC_INTERVAL)}`);
  const graceMs = durationSetting(env, 'REGISTRY_GC_GRACE', GC_DEFAULTS.graceMs);
  if (graceMs < MIN_TIMER_GRACE_MS) throw new ConfigError(`REGISTRY_GC_GRACE must be at least 1s while the registry serves (a grace of 0 is for \`npm run gc\` on a stopped registry), got ${JSON.stringify(env.REGISTRY_GC_GRACE)}`);
  return { intervalMs, graceMs, untaggedMs: durationSetting(env, 'REGISTRY_GC_UNTAGGED', GC_DEFAULTS.untaggedMs) };
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|\[::1\])$/;

function readAuth(env: Env, host: string): LocalAuthConfig {
  const mode = choiceSetting(env, 'REGISTRY_AUTH', ['on', 'off', 'insecure-off'], 'off');
  if (mode === 'off' && !LOOPBACK.test(host)) {
    throw new ConfigError(`HOST ${host} is reachable from other machines and REGISTRY_AUTH is off: anyone there could push and delete. Set REGISTRY_AUTH=on (create users with \`npm run admin -- user add <name> --admin\`), or REGISTRY_AUTH=insecure-off to run open on purpose`);
  }
  const url = optionalSetting(env, 'REGISTRY_URL');
  let parsed: URL | undefined;
  if (url !== undefined) {
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`REGISTRY_URL ${JSON.stringify(url)} is not a URL: set it to the registry's public address, e.g. https://registry.example.com`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError('REGISTRY_URL must be an http(s) URL');
  }
  const service = optionalSetting(env, 'REGISTRY_AUTH_SERVICE') ?? parsed?.host ?? 'oci-registry';
  return {
    on: mode === 'on',
    ...(parsed ? { url: parsed.origin } : {}),
    service,
    refreshTokenSeconds: intSetting(env, 'REGISTRY_REFRESH_TOKEN_DAYS', 30, 1, 365) * 86_400,
    oidc: oidcSettings(env, service),
  };
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
  const host = env.HOST || '127.0.0.1';
  return {
    host,
    auth: readAuth(env, host),
    port: intSetting(env, 'PORT', 5000, 0, 65535),
    dataDir: resolve(env.REGISTRY_DATA_DIR || defaultDataDir),
    secret: secretEnv(env),
    uploadTtlSeconds: intSetting(env, 'REGISTRY_UPLOAD_TTL_SECONDS', 24 * 3600, 1, 365 * 24 * 3600),
    sweepIntervalSeconds: intSetting(env, 'REGISTRY_SWEEP_INTERVAL_SECONDS', 600, 1, MAX_TIMER_SECONDS),
    idleTimeoutSeconds: intSetting(env, 'REGISTRY_IDLE_TIMEOUT_SECONDS', 300, 0, MAX_TIMER_SECONDS),
    gc: readGc(env),
    proxy: proxySettings(env, { waitSeconds: 120, fetchSeconds: 30, maxSeconds: 3600 }),
  };
}

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

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
