// Garbage collection on a timer inside `npm start` (REGISTRY_GC_INTERVAL, off by default): the same
// core pass as `npm run gc` (functions/core/gc), one at a time: a tick that comes while a run is
// still going is skipped, never stacked. One log line per run with what it freed.
import type { GcDeps, GcOptions } from '../../core/gc/run.ts';
import { collectGarbage } from '../../core/gc/run.ts';
import { log } from '../../http/log.ts';

export interface GcTimerSettings {
  intervalMs: number;
  graceMs: number;
  untaggedMs: number;
}

export interface GcTimer {
  /** No further runs; the one in flight (if any) is what `track` was given. */
  stop(): void;
}

/** Starts the timer; `track` receives each run so that a graceful stop waits for it. */
export function startGcTimer(deps: GcDeps, settings: GcTimerSettings, track: (run: Promise<unknown>) => void): GcTimer {
  const options: GcOptions = { graceMs: settings.graceMs, untaggedMs: settings.untaggedMs, dryRun: false };
  let running = false;
  let stopped = false;
  const tick = (): void => {
    if (running || stopped) return;
    running = true;
    const started = deps.now();
    const run = collectGarbage(deps, options)
      .then((r) => {
        const deleted = Object.entries(r.counts).filter(([k]) => k.startsWith('delete.')).reduce((n, [, v]) => n + v, 0);
        log('info', 'gc run', { startedAt: started, ms: deps.now() - started, bytesFreed: r.bytesFreed, deleted, marked: Object.entries(r.counts).filter(([k]) => k.startsWith('mark.')).reduce((n, [, v]) => n + v, 0), pages: r.pages });
      })
      .catch((e: unknown) => log('warn', 'gc run failed', { startedAt: started, error: e instanceof Error ? e.message : String(e) }))
      .finally(() => (running = false));
    track(run);
  };
  const timer = setInterval(tick, settings.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
