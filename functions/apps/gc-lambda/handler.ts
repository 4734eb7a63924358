// The GC Lambda: one step of a garbage collection run (docs/gc.md). A Step Functions loop calls it
// until it answers `done`: each call loads the run's GcState from S3, runs pages of the core pass
// (functions/core/gc/run.ts) while the invocation has time left, saves the state with the next
// sequence number and answers that number. The state machine passes the answer back in, so a call
// that Step Functions retries after it had saved (it failed on the way out) sees its own save and
// answers it again instead of redoing pages; a retry before the save redoes pages, which is harmless
// (every GC write is conditional). Input `{dryRun: true}` to the execution: a dry run.
import { startPass, runPage, type GcDeps, type GcOptions, type GcState } from '../../core/gc/run.ts';
import type { GcReport } from '../../core/gc/report.ts';
import { isRunId, reportKey, type GcRunStore } from '../../adapters/s3/gc-runs.ts';

/** What the state machine sends: the run (its execution name), the step, the execution's input. */
export interface GcEvent {
  runId?: unknown;
  seq?: unknown;
  input?: { dryRun?: unknown } | null;
}

/** What it gets back (small: Step Functions carries it to the next step). */
export interface GcStep {
  runId: string;
  seq: number;
  done: boolean;
  dryRun: boolean;
  phase: GcState['phase'];
  pages: number;
  bytesFreed: number;
  counts: Record<string, number>;
  /** When done: the S3 key of the report. */
  report?: string;
}

export interface GcHandlerDeps {
  gc: GcDeps;
  runs: GcRunStore;
  /** Grace and untagged retention of a run; the input decides dryRun. */
  options: Omit<GcOptions, 'dryRun'>;
  /** Rows per page (repositories, blob records; S3 lists 1000 keys a page regardless). */
  pageSize?: number;
}

export interface GcHandlerHooks {
  /** Once per finished run, after its report is saved (logs, metrics, the CDN purge); awaited. */
  onDone?: (runId: string, report: GcReport) => void | Promise<void>;
}

export class GcInputError extends Error {
  override name = 'GcInputError';
}

/** Time kept back at the end of an invocation for the save (a page must also fit in it). */
export const RESERVE_MS = 60_000;

function stepOf(runId: string, seq: number, state: GcState): GcStep {
  const r = state.report;
  return {
    runId, seq, done: state.phase === 'done', dryRun: r.dryRun, phase: state.phase, pages: r.pages, bytesFreed: r.bytesFreed, counts: r.counts,
    ...(state.phase === 'done' ? { report: reportKey(runId) } : {}),
  };
}

function parse(event: GcEvent): { runId: string; seq: number; dryRun: boolean } {
  if (!isRunId(event.runId)) throw new GcInputError('runId must be 1-80 characters of A-Z, a-z, 0-9 and _.:- (the state machine passes its execution name)');
  const seq = event.seq ?? 0;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new GcInputError('seq must be a whole number from 0');
  const dryRun = event.input?.dryRun ?? false;
  if (typeof dryRun !== 'boolean') throw new GcInputError('input.dryRun must be true or false');
  return { runId: event.runId, seq, dryRun };
}

export function createGcHandler(getDeps: () => GcHandlerDeps | Promise<GcHandlerDeps>, hooks: GcHandlerHooks = {}) {
  return async (event: GcEvent, context: { getRemainingTimeInMillis(): number }): Promise<GcStep> => {
    const { runId, seq, dryRun } = parse(event ?? {});
    const deps = await getDeps();
    const saved = await deps.runs.load(runId);
    let state: GcState;
    if (saved && saved.seq > seq) return stepOf(runId, saved.seq, saved.state); // a retry of a step that saved
    if (saved && saved.seq === seq) state = saved.state;
    else if (!saved && seq === 0) state = startPass({ ...deps.options, dryRun }, deps.gc.now());
    else throw new GcInputError(`run ${runId} has no saved step ${seq} (saved: ${saved ? saved.seq : 'none'})`);
    do state = await runPage(deps.gc, state, deps.pageSize);
    while (state.phase !== 'done' && context.getRemainingTimeInMillis() > RESERVE_MS);
    if (state.phase === 'done') state.report.passes = 1;
    await deps.runs.save(runId, { seq: seq + 1, state });
    if (state.phase === 'done') {
      await deps.runs.saveReport(runId, state.report);
      await hooks.onDone?.(runId, state.report);
    }
    return stepOf(runId, seq + 1, state);
  };
}
