// What a test file's registries, services and libraries print, kept out of the test run's output
// (a bounded buffer of lines, each marked with where it came from). The setup file
// test/support/quiet-output.ts turns keeping on, feeds it this worker's own stdout and stderr, and
// prints what was kept for a failing test only; test/support/registry.ts and npm-start.ts add their
// registry process's output. Without the setup file (`npm run bench` shares test/support/
// registry.ts) nothing is kept.

/** A failing test shows at most this many of the last lines (a test can make thousands of requests). */
const MAX_LINES = 500;

let keeping = false;
let lines: string[] = [];
let dropped = 0;
// Per source, the start of a line whose end has not arrived yet (pipes split output anywhere).
const partial = new Map<string, string>();

export function startKeeping(): void {
  keeping = true;
}

/** Keeps `text` (any part of a source's output), each line marked with its source. */
export function keepOutput(source: string, text: string): void {
  if (!keeping) return;
  const parts = ((partial.get(source) ?? '') + text).split('\n');
  partial.set(source, parts.pop() ?? '');
  for (const line of parts) lines.push(`[${source}] ${line}`);
  if (lines.length > 2 * MAX_LINES) {
    dropped += lines.length - MAX_LINES;
    lines = lines.slice(-MAX_LINES);
  }
}

/** Everything kept since it was last taken or dropped (unfinished lines included), then forgets it; '' when nothing was. */
export function takeOutput(): string {
  for (const [source, rest] of partial) if (rest) lines.push(`[${source}] ${rest}`);
  const shown = lines.slice(-MAX_LINES);
  const notShown = dropped + lines.length - shown.length;
  dropOutput();
  if (shown.length === 0) return '';
  return `${notShown ? `(${notShown} earlier lines not shown)\n` : ''}${shown.join('\n')}`;
}

/** Forgets everything kept so far. */
export function dropOutput(): void {
  lines = [];
  dropped = 0;
  partial.clear();
}
