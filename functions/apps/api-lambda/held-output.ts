// One write per invocation: a Lambda runs one invocation at a time, and each write to stdout is a
// system call that also wakes the runtime's log reader, which cost more CPU per manifest GET than the
// handler's own JavaScript (bench: handler CPU). So the INFO lines of an invocation (the audit `pull`
// line, the request line, its EMF documents) are held and leave together at its end. WARN and ERROR
// go to stderr, never held. A slow invocation's lines leave after `maxMs` anyway, so a timeout never
// takes them along, and an exiting process writes what it holds.

export interface HeldOutput {
  /** Writes what is held (once; later calls do nothing). */
  release(): void;
}

/** Holds `stream`'s writes until release() or `maxMs`, whichever comes first. */
export function holdOutput(stream: NodeJS.WritableStream & { cork(): void; uncork(): void }, maxMs: number): HeldOutput {
  stream.cork();
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    clearTimeout(timer);
    process.off('exit', release);
    stream.uncork();
  };
  const timer = setTimeout(release, maxMs);
  timer.unref();
  process.once('exit', release);
  return { release };
}
