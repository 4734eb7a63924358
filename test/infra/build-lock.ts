// A lock between test workers (separate processes) as a directory holding the holder's pid, made
// atomically (written aside, then renamed into place). A lock whose holder is gone (a worker killed
// mid-build) is taken over at once instead of blocking every other worker until a deadline.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The pid written in the lock, or undefined (no lock, or an empty one left by an older version). */
function holderOf(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(lock: string): boolean {
  const aside = mkdtempSync(join(dirname(lock), `.${basename(lock)}.new-`));
  writeFileSync(join(aside, 'pid'), String(process.pid));
  try {
    // rename(2) onto an existing non-empty directory fails: only one taker wins. (An empty directory,
    // which an older version of this lock left, is replaced: it names no holder.)
    renameSync(aside, lock);
    return true;
  } catch (e) {
    rmSync(aside, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Takes the lock, waiting while a live process holds it; a lock whose holder has exited is removed
 * and taken. Returns the function that releases it. Fails after `timeoutMs` of a live holder.
 */
export function acquireLock(lock: string, opts: { timeoutMs: number; pollMs?: number }): () => void {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (tryTake(lock)) break;
    const holder = holderOf(lock);
    if (holder !== undefined && !processAlive(holder)) {
      // Moved aside first, so a lock another waiter has just taken in its place is never deleted.
      const stale = `${lock}.stale-${process.pid}-${Date.now()}`;
      try {
        renameSync(lock, stale);
        if (holderOf(stale) === holder) rmSync(stale, { recursive: true, force: true });
        else renameSync(stale, lock); // not the dead holder's any more: put it back
      } catch {
        // another waiter moved it first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lock} held by pid ${holder ?? 'unknown'} for ${opts.timeoutMs} ms`);
    sleep(opts.pollMs ?? 200);
  }
  return () => {
    if (holderOf(lock) === process.pid) rmSync(lock, { recursive: true, force: true });
  };
}
