// Setup file of every test worker: a passing run prints vitest's report, not the logs of what the
// tests start. What this worker writes to its stdout and stderr itself (Powertools' logger and EMF
// metrics of an in-process API handler or start:aws, the ingest output start:aws forwards, the HTTP
// layer's log; vitest's console does not go through them) is kept in test/support/test-output.ts,
// with the output of the registry processes test/support/registry.ts and npm-start.ts start. A
// failing test prints, through vitest's console, what was kept since the last test that passed (so
// the first test also shows its file's beforeAll, and a late line of the test before may show too);
// a file whose beforeAll or afterAll failed prints what is left at its end. The rest is dropped.
import { aroundAll, beforeEach } from 'vitest';
import type { RunnerTask } from 'vitest';
import { dropOutput, keepOutput, startKeeping, takeOutput } from './test-output.ts';

type Callback = (err?: Error | null) => void;

startKeeping();
for (const [source, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | Callback, done?: Callback) => {
    keepOutput(source, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = typeof encoding === 'function' ? encoding : done;
    if (callback) process.nextTick(callback);
    return true;
  }) as typeof stream.write;
}

// A child process's last lines reach us after the response they log: wait for them before showing.
const SETTLE_MS = 250;

async function show(what: string): Promise<void> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const kept = takeOutput();
  if (kept) console.log(`--- what the registries and services of ${what} printed (not shown while tests pass) ---\n${kept}`);
}

beforeEach((ctx) => {
  // Registered first, so they run after the test's own onTestFinished (e.g. a registry's stop()).
  ctx.onTestFinished(() => {
    if (ctx.task.result?.state !== 'fail') dropOutput();
  });
  ctx.onTestFailed(() => show('this test'));
});

const failed = (task: RunnerTask): boolean =>
  task.result?.state === 'fail' || (task.result?.errors?.length ?? 0) > 0 || ('tasks' in task && task.tasks.some(failed));

// Around the whole file, so it sees the outcome of every hook (an afterAll that throws stops the others).
// The empty pattern: vitest reads the second parameter for fixtures and requires destructuring.
// eslint-disable-next-line no-empty-pattern
aroundAll(async (runFile, {}, file) => {
  await runFile();
  if (failed(file)) await show("this file's hooks");
  else dropOutput();
});
