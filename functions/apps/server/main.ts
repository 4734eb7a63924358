// `npm start`: the registry as one Node process on the embedded default (SQLite + files).
// `npm start` execs this file, so SIGTERM/SIGINT sent to npm (which hands them on) or to node reach it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, EXIT_CONFIG } from '../../config/config-error.ts';
import { readConfig } from './config.ts';
import { startLocalRegistry, STOP_DEADLINE_MS, type LocalRegistry } from './server.ts';
import { log } from '../../http/log.ts';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function refuse(e: unknown): never {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`registry: ${e.message}\n`);
  process.exit(EXIT_CONFIG);
}

let starting: Promise<LocalRegistry>;
try {
  starting = startLocalRegistry(readConfig(process.env, join(projectDir, 'data')));
} catch (e) {
  refuse(e);
}

// Installed before the `listening` line, so a signal sent as soon as that line is seen is handled;
// one that arrives while the registry is still starting stops it right after the start.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Ctrl-C signals npm and node alike, and npm hands its copy on: a second signal changes nothing.
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    log('info', 'shutting down', { signal });
    // Whatever still runs by then (e.g. an fsync on a hung disk) is abandoned.
    setTimeout(() => {
      log('error', 'stop deadline passed, exiting', { ms: STOP_DEADLINE_MS });
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    // A start that fails is reported (and exits) below.
    starting.then(
      (registry) =>
        registry.close().then(
          () => {
            log('info', 'stopped', { ms: Math.round(performance.now() - started) });
            process.exit(0);
          },
          (e: unknown) => {
            log('error', 'shutdown failed', { error: String(e) });
            process.exit(1);
          },
        ),
      () => undefined,
    );
  });
}

const registry = await starting.catch(refuse);
if (!stopping) log('info', 'listening', { url: registry.url, pid: process.pid });
