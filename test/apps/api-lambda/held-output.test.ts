// held-output.ts: an invocation's lines leave in one write, at release or after maxMs, once.
import { Writable } from 'node:stream';
import { afterEach, expect, test, vi } from 'vitest';
import { holdOutput } from '../../../functions/apps/api-lambda/held-output.ts';

/** A stream that records each write it makes (one entry per system call a real pipe would make). */
function recorder() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)).join(''));
      done();
    },
  });
  return { stream, writes };
}

afterEach(() => {
  vi.useRealTimers();
});

test('lines written while held leave in one write at release; a second release does nothing', () => {
  const { stream, writes } = recorder();
  const exitListeners = process.listenerCount('exit');
  const held = holdOutput(stream, 1000);
  stream.write('pull\n');
  stream.write('request\n');
  stream.write('{"_aws":{}}\n');
  expect(writes).toEqual([]);
  expect(process.listenerCount('exit')).toBe(exitListeners + 1);
  held.release();
  expect(writes).toEqual(['pull\nrequest\n{"_aws":{}}\n']);
  expect(process.listenerCount('exit')).toBe(exitListeners);
  held.release();
  stream.write('later\n');
  expect(writes).toEqual(['pull\nrequest\n{"_aws":{}}\n', 'later\n']);
});

test('a slow invocation\'s lines leave after maxMs without waiting for its end', () => {
  vi.useFakeTimers();
  const { stream, writes } = recorder();
  const held = holdOutput(stream, 1000);
  stream.write('started\n');
  vi.advanceTimersByTime(999);
  expect(writes).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(writes).toEqual(['started\n']);
  // Later lines of the same invocation are no longer held; the end releases nothing twice.
  stream.write('ended\n');
  held.release();
  expect(writes).toEqual(['started\n', 'ended\n']);
});

test('a process that exits while holding writes what it holds', () => {
  const { stream, writes } = recorder();
  const before = new Set(process.listeners('exit'));
  holdOutput(stream, 1000);
  stream.write('last words\n');
  // Only the listener holdOutput added, not the test runner's own.
  const added = process.listeners('exit').filter((l) => !before.has(l));
  expect(added).toHaveLength(1);
  added[0]!(0);
  expect(writes).toEqual(['last words\n']);
  expect(process.listeners('exit').filter((l) => !before.has(l))).toHaveLength(0);
});
