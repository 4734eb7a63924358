// `npm start`: the registry as one Node process on the embedded default (SQLite + files).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalRegistry } from './server.ts';
import { log } from './log.ts';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Node timers take at most 2^31-1 ms; a longer one silently fires after 1 ms. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function intEnv(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const registry = await startLocalRegistry({
  host: process.env.HOST || '127.0.0.1',
  port: intEnv('PORT', 5000, 0, 65535),
  dataDir: resolve(process.env.REGISTRY_DATA_DIR || join(projectDir, 'data')),
  secret: process.env.REGISTRY_SECRET || undefined,
  uploadTtlSeconds: intEnv('REGISTRY_UPLOAD_TTL_SECONDS', 24 * 3600, 1, 365 * 24 * 3600),
  sweepIntervalSeconds: intEnv('REGISTRY_SWEEP_INTERVAL_SECONDS', 600, 1, MAX_TIMER_SECONDS),
  idleTimeoutSeconds: intEnv('REGISTRY_IDLE_TIMEOUT_SECONDS', 300, 0, MAX_TIMER_SECONDS),
});
log('info', 'listening', { url: registry.url });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
    registry.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log('error', 'shutdown failed', { error: String(e) });
        process.exit(1);
      },
    );
  });
}
