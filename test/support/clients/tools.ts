// Tool discovery and skipping for the real clients. Binaries are looked up in /usr/bin, /usr/sbin,
// /bin, /sbin first (where Debian's packages put them) and then on PATH, so a newer client in
// /usr/local/bin does not shadow the packaged one. When a tool or daemon is unavailable,
// toolGate()/startOrSkip() turn that into a vitest skip with a reason (`ctx.skip(note)`), except under CI=true,
// where it is an error (CI installs them). E2E_HIDE_TOOLS=skopeo,dockerd makes tools look missing
// (to check those paths).
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'vitest';

export const isCI = process.env.CI === 'true';

const preferredDirs = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];

/** Tools to treat as not installed (comma-separated), to exercise the skip/CI-failure paths. */
const hidden = new Set((process.env.E2E_HIDE_TOOLS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** Absolute path of an executable, or undefined. Debian's package dirs win over PATH. */
export function findTool(name: string): string | undefined {
  if (hidden.has(name)) return undefined;
  const dirs = [...preferredDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin'];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Like findTool, but a missing tool throws Unavailable. */
export function requireTool(name: string): string {
  const file = findTool(name);
  if (!file) throw new Unavailable(`${name} is not installed`);
  return file;
}

/** A daemon or tool that cannot run in this environment. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

export interface ToolGate {
  /** Why the tools are unusable (names of the missing ones); undefined when all found. */
  missing: string | undefined;
  /**
   * Call first in the test body: when a tool is missing, skips the test with the reason, or under
   * CI=true throws (CI installs them).
   */
  check(t: TestContext): void;
}

/** Checks that all named executables exist. */
export function toolGate(names: string[]): ToolGate {
  const missing = names.filter((n) => findTool(n) === undefined);
  const reason = missing.length ? `not installed: ${missing.join(', ')}` : undefined;
  return {
    missing: reason,
    check(t) {
      if (!reason) return;
      if (isCI) throw new Error(`CI=true but required e2e tools are missing (${reason}); CI must install them`);
      t.skip(reason);
    },
  };
}

/**
 * Starts a daemon; if it is Unavailable in this environment, marks the test skipped with the reason
 * and returns undefined (the caller returns). Under CI=true it rethrows instead.
 */
export async function startOrSkip<T>(t: TestContext, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    if (err instanceof Unavailable && !isCI) {
      t.skip(err.message);
      return undefined;
    }
    throw err;
  }
}
