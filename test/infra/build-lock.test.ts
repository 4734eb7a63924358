// The lock the infra tests' `npm run build` runs under (build-lock.ts): a live holder is waited for,
// a dead holder's lock (a worker killed mid-build) is taken over at once, and one process at a time
// holds it.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, processAlive } from './build-lock.ts';

const dirs: string[] = [];
const lockIn = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'build-lock-'));
  dirs.push(dir);
  return join(dir, 'build.lock');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

describe('build lock', () => {
  it('takes a free lock, writes its pid, and removes it on release', () => {
    const lock = lockIn();
    const release = acquireLock(lock, { timeoutMs: 1000 });
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock whose holder has exited is taken over at once, not after the deadline', () => {
    const lock = lockIn();
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(deadPid()));
    const started = Date.now();
    const release = acquireLock(lock, { timeoutMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('an empty lock directory (left by the earlier mkdir-only lock) names no holder and is taken', () => {
    const lock = lockIn();
    mkdirSync(lock);
    const release = acquireLock(lock, { timeoutMs: 60_000 });
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('a live holder is waited for, and the wait fails at the deadline naming it', async () => {
    const lock = lockIn();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => holder.once('spawn', r));
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(holder.pid));
      expect(() => acquireLock(lock, { timeoutMs: 300, pollMs: 50 })).toThrow(new RegExp(`held by pid ${holder.pid}`));
      expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a release by a process that no longer holds the lock leaves the new holder\'s lock alone', () => {
    const lock = lockIn();
    const release = acquireLock(lock, { timeoutMs: 1000 });
    // Someone took it over meanwhile (as after a stale takeover).
    writeFileSync(join(lock, 'pid'), '1');
    release();
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe('1');
  });
});
