// Setup file of every test worker: what the code under test writes straight to this worker's stdout
// and stderr (the JSON request lines and EMF metrics of a start:aws or API handler running in the
// worker, the ingest child's output that start:aws forwards) is kept, not printed. A failing test gets
// what was written since the previous test ended, as its own console output in vitest's report; a
// passing test's is dropped. vitest's own console capture (console.log in a test) is untouched.
import { beforeEach } from 'vitest';

/** The most kept per test: the newest lines win. */
const MAX_KEPT_BYTES = 1024 * 1024;

let kept: string[] = [];
let keptBytes = 0;

const realStderr = process.stderr.write.bind(process.stderr);

function keeper(stream: NodeJS.WriteStream): void {
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), done?: (e?: Error | null) => void): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    kept.push(text);
    keptBytes += text.length;
    while (keptBytes > MAX_KEPT_BYTES && kept.length > 1) keptBytes -= kept.shift()!.length;
    const callback = typeof encoding === 'function' ? encoding : done;
    if (callback) queueMicrotask(() => callback());
    return true;
  }) as typeof stream.write;
}

keeper(process.stdout);
keeper(process.stderr);

beforeEach((ctx) => {
  // vitest runs afterEach hooks, then onTestFinished, then onTestFailed: the finished test's lines
  // are set aside for the failure handler, and the next test starts afresh.
  let finished: string[] = [];
  ctx.onTestFinished(() => {
    finished = kept;
    kept = [];
    keptBytes = 0;
  });
  ctx.onTestFailed(() => {
    const lines = [...finished, ...kept];
    if (lines.length === 0) return;
    realStderr(`\n--- ${ctx.task.file.name} > ${ctx.task.name}: written to stdout/stderr during the test (newest last) ---\n${lines.join('')}--- end ---\n`);
  });
});
