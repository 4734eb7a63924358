// Starts the local registry (`functions/apps/server/main.ts`) as a child process on a free loopback port,
// exactly as `npm start` runs it, and stops it again. Used by API, e2e, crash and bench code.
import { spawn, type ChildProcess } from 'node:child_process';
import { beforeEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { keepOutput } from './test-output.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const mainScript = join(root, 'functions', 'apps', 'server', 'main.ts');
/** `npm run start:aws`: the AWS shape on one machine (DynamoDB Local, s3rver, the API Lambda, ingest, the edge functions). */
export const awsMainScript = join(root, 'dev', 'start-aws', 'main.ts');

/**
 * Which registry the shared tests run against: `local` (`npm start`, the default) or `aws`
 * (`npm run start:aws`), from REGISTRY_BACKEND; the vitest config runs test/api and test/e2e once per backend.
 */
export const backend = (): 'local' | 'aws' => (process.env.REGISTRY_BACKEND === 'aws' ? 'aws' : 'local');

/**
 * Inside a describe block: its tests run only against `only`, and are reported as skipped with
 * `reason` against the other backend (vitest's skipIf would give none).
 */
export function onlyOnBackend(only: 'local' | 'aws', reason: string): void {
  beforeEach((ctx) => {
    if (backend() !== only) ctx.skip(reason);
  });
}

export interface RunningRegistry {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** e.g. `127.0.0.1:41234`, for image references. */
  host: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Every line the server wrote to stdout (structured logs). */
  logs: string[];
  /** Graceful stop (SIGTERM); removes the data dir if this helper created it. */
  stop(): Promise<void>;
  /** SIGKILL, leaving the data dir in place (for crash tests). */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
}

export async function startRegistry(opts: StartOptions = {}): Promise<RunningRegistry> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'registry-test-')));
  const child = spawn(process.execPath, [backend() === 'aws' ? awsMainScript : mainScript], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(opts.port ?? 0), REGISTRY_DATA_DIR: dataDir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    keepOutput('registry stderr', d.toString());
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry did not start in 60s; stderr: ${stderr}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code} before listening; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      keepOutput('registry', `${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
