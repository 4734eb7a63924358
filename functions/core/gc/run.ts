// A GC pass in resumable pages: repositories (mark and sweep manifests and links), then global blob
// records (a blob no repository links), then stored bytes no record names. The whole state between
// pages is `GcState` (plain JSON), so a Lambda can save it and go on in a new invocation; each page's
// writes are conditional (mark only unmarked, delete only with the mark seen), so a page that runs
// twice changes nothing the second time. A dry run writes nothing: its marks and deletions go to an
// overlay in the state, which later pages and passes read through, so it reports exactly what a real
// run would do. docs/gc.md.
import type { GcTarget, TagState } from '../ports.ts';
import type { GcBlob, GcBlobStore, GcMetadataStore, GcRepository } from '../gc-ports.ts';
import { planRepository, type GcWindow, type Verdict } from './plan.ts';
import { planRetention, type RetentionPolicies } from './retention.ts';
import { changedAnything, emptyReport, mergeReports, recordAction, type GcKind, type GcReport } from './report.ts';

export interface GcDeps {
  metadata: GcMetadataStore;
  blobs: GcBlobStore;
  now: () => number;
  /** The projects' retention rules (core/gc/retention.ts); absent: no tag is removed by a rule. */
  retention?: RetentionPolicies;
}

export interface GcOptions {
  /** Nothing written more recently than this is collected. 0 only for a stopped registry (or tests). */
  graceMs: number;
  /** Untagged manifests younger than this are kept (the grace applies too). */
  untaggedMs: number;
  dryRun: boolean;
}

/** A run's defaults everywhere (`npm run gc`, the npm start timer, the GC Lambda without settings). */
export const GC_DEFAULTS = { graceMs: 6 * 3_600_000, untaggedMs: 86_400_000 } as const;

export interface GcState {
  version: 1;
  options: GcOptions;
  startedAt: number;
  phase: 'repositories' | 'blobs' | 'stored' | 'done';
  cursor?: string;
  /** Digests some repository still links (after this pass's deletions). */
  linked: string[];
  /** Storage locations some record names (blob records, manifest bodies). */
  recorded: string[];
  /** Dry run only: what the pass would have deleted and marked (target or location -> mark time). */
  overlay: { deleted: string[]; marks: Record<string, number> };
  report: GcReport;
}

export function startPass(options: GcOptions, now: number, overlay: GcState['overlay'] = { deleted: [], marks: {} }): GcState {
  return { version: 1, options, startedAt: now, phase: 'repositories', linked: [], recorded: [], overlay, report: emptyReport(options.dryRun, options.graceMs, options.untaggedMs, now) };
}

const keyOf = (t: GcTarget): string => (t.kind === 'blob' ? `blob|${t.digest}` : `${t.kind}|${t.repo}|${t.digest}`);

/** One pass's store writes, or (dry run) their effect on the overlay. */
class Writer {
  readonly #deps: GcDeps;
  readonly #state: GcState;
  readonly #deleted: Set<string>;

  constructor(deps: GcDeps, state: GcState) {
    this.#deps = deps;
    this.#state = state;
    this.#deleted = new Set(state.overlay.deleted);
  }

  get dry(): boolean {
    return this.#state.options.dryRun;
  }

  /** The mark an item has, as the store or (dry run) the overlay says. */
  markOf(t: GcTarget, stored: number | undefined): number | undefined {
    return this.dry ? (this.#state.overlay.marks[keyOf(t)] ?? stored) : stored;
  }

  isDeleted(key: string): boolean {
    return this.#deleted.has(key);
  }

  async mark(t: GcTarget, notAfter: number): Promise<boolean> {
    if (this.dry) {
      this.#state.overlay.marks[keyOf(t)] = this.#state.startedAt;
      return true;
    }
    return this.#deps.metadata.gcMark(t, this.#state.startedAt, notAfter);
  }

  /** Deletes a tag as a retention rule decided, only while it is still as seen. */
  async deleteTag(repo: string, tag: string, seen: TagState): Promise<boolean> {
    if (this.dry) {
      this.#gone(`tag|${repo}|${tag}`);
      return true;
    }
    return this.#deps.metadata.deleteTag(repo, tag, seen);
  }

  async unmark(t: GcTarget): Promise<void> {
    if (this.dry) delete this.#state.overlay.marks[keyOf(t)];
    else await this.#deps.metadata.gcUnmark(t);
  }

  async delete(t: GcTarget, markedAt: number): Promise<boolean> {
    if (this.dry) {
      this.#gone(keyOf(t));
      return true;
    }
    return this.#deps.metadata.gcDelete(t, markedAt);
  }

  /** Frees the bytes at `location` if not rewritten since the cutoff; the bytes freed. */
  async free(location: string, size: number, cutoff: number): Promise<number> {
    if (this.dry) {
      this.#gone(`stored|${location}`);
      return size;
    }
    return this.#deps.blobs.deleteStale(location, cutoff);
  }

  #gone(key: string): void {
    this.#deleted.add(key);
    this.#state.overlay.deleted.push(key);
  }
}

function windowOf(state: GcState): GcWindow {
  const cutoff = state.startedAt - state.options.graceMs;
  return { cutoff, untaggedCutoff: Math.min(cutoff, state.startedAt - state.options.untaggedMs) };
}

/** The repository as the pass sees it: a dry run's overlay applied. */
function overlaid(repo: GcRepository, w: Writer): GcRepository {
  const t = (kind: 'manifest' | 'link', digest: string): GcTarget => ({ kind, repo: repo.repo, digest });
  const live = <T extends { digest: string; markedAt?: number }>(kind: 'manifest' | 'link', items: T[]): T[] =>
    items.filter((i) => !w.isDeleted(keyOf(t(kind, i.digest)))).map((i) => {
      const markedAt = w.markOf(t(kind, i.digest), i.markedAt);
      const { markedAt: _, ...rest } = i;
      return (markedAt === undefined ? rest : { ...rest, markedAt }) as T;
    });
  const tags = new Map([...repo.tags].filter(([tag]) => !w.isDeleted(`tag|${repo.repo}|${tag}`)));
  return { ...repo, tags, manifests: live('manifest', repo.manifests), links: live('link', repo.links) };
}

/** Removes the tags the repository's retention rules remove (before the mark: what they held becomes untagged). */
async function applyRetention(deps: GcDeps, state: GcState, w: Writer, repo: GcRepository): Promise<void> {
  const policy = repo.tags.size > 0 ? await deps.retention?.(repo.repo) : undefined;
  if (!policy) return;
  for (const r of planRetention(repo.repo, repo.tags, policy, state.startedAt)) {
    // A tag pushed or pulled since the read stays (the delete's condition fails): the next run decides again.
    if (!(await w.deleteTag(repo.repo, r.tag, r.seen))) continue;
    repo.tags.delete(r.tag);
    recordAction(state.report, { action: 'delete', kind: 'tag', repo: repo.repo, tag: r.tag, digest: r.seen.digest, bytes: 0, rule: r.rule, reason: r.reason });
  }
}

/** Applies one verdict: returns whether the item is still there afterwards. */
async function apply(w: Writer, state: GcState, t: GcTarget, verdict: Verdict, markedAt: number | undefined, notAfter: number, what: { kind: GcKind; bytes: number; reason: string }): Promise<boolean> {
  const base = { kind: what.kind, ...(t.kind === 'blob' ? {} : { repo: t.repo }), digest: t.digest, bytes: what.bytes, reason: what.reason };
  if (verdict === 'mark' && (await w.mark(t, notAfter))) recordAction(state.report, { action: 'mark', ...base });
  else if (verdict === 'unmark') {
    await w.unmark(t);
    recordAction(state.report, { action: 'unmark', ...base });
  } else if (verdict === 'delete' && markedAt !== undefined && (await w.delete(t, markedAt))) {
    recordAction(state.report, { action: 'delete', ...base });
    return false;
  }
  return true;
}

async function repositoriesPage(deps: GcDeps, state: GcState, w: Writer, pageSize: number): Promise<void> {
  const page = await deps.metadata.listRepositories(pageSize, state.cursor);
  const win = windowOf(state);
  const linked = new Set(state.linked);
  for (const name of page.items) {
    const repo = overlaid(await deps.metadata.gcRepository(name), w);
    await applyRetention(deps, state, w, repo);
    state.report.scanned.repositories += 1;
    state.report.scanned.manifests += repo.manifests.length;
    state.report.scanned.links += repo.links.length;
    const plan = planRepository(repo, win);
    for (const { item: m, verdict, reason } of plan.manifests) {
      const t: GcTarget = { kind: 'manifest', repo: name, digest: m.digest };
      const kept = await apply(w, state, t, verdict, m.markedAt, win.untaggedCutoff, { kind: 'manifest', bytes: m.size, reason });
      if (kept) state.recorded.push(...m.stored);
      else for (const location of m.stored) await w.free(location, 0, win.cutoff);
    }
    for (const { item: l, verdict, reason } of plan.links) {
      const t: GcTarget = { kind: 'link', repo: name, digest: l.digest };
      if (await apply(w, state, t, verdict, l.markedAt, win.cutoff, { kind: 'link', bytes: l.size, reason })) linked.add(l.digest);
    }
  }
  state.linked = [...linked];
  state.cursor = page.items.at(-1) ?? state.cursor;
  if (!page.more) [state.phase, state.cursor] = ['blobs', undefined];
}

async function blobsPage(deps: GcDeps, state: GcState, w: Writer, pageSize: number): Promise<void> {
  const page = await deps.metadata.gcBlobs(pageSize, state.cursor);
  const win = windowOf(state);
  const linked = new Set(state.linked);
  for (const stored of page.items) {
    const t: GcTarget = { kind: 'blob', digest: stored.digest };
    if (w.isDeleted(keyOf(t))) continue;
    state.report.scanned.blobs += 1;
    const b: GcBlob = { ...stored };
    const markedAt = w.markOf(t, b.markedAt);
    let verdict: Verdict;
    let reason = 'no repository links it';
    if (linked.has(b.digest)) [verdict, reason] = [markedAt === undefined ? 'keep' : 'unmark', 'linked'];
    else if (b.touchedAt > win.cutoff) [verdict, reason] = ['keep', 'recorded within the grace window'];
    else verdict = markedAt === undefined ? 'mark' : markedAt <= win.cutoff ? 'delete' : 'wait';
    if (verdict === 'delete') {
      if (markedAt !== undefined && (await w.delete(t, markedAt))) {
        const bytes = await w.free(b.location, b.size, win.cutoff);
        recordAction(state.report, { action: 'delete', kind: 'blob', digest: b.digest, location: b.location, bytes, reason });
        continue;
      }
    } else await apply(w, state, t, verdict, markedAt, win.cutoff, { kind: 'blob', bytes: b.size, reason });
    state.recorded.push(b.location);
  }
  state.cursor = page.cursor;
  if (page.cursor === undefined) state.phase = 'stored';
}

async function storedPage(deps: GcDeps, state: GcState, w: Writer, pageSize: number): Promise<void> {
  const page = await deps.blobs.listStored(pageSize, state.cursor);
  const win = windowOf(state);
  const recorded = new Set(state.recorded);
  for (const o of page.items) {
    if (w.isDeleted(`stored|${o.location}`)) continue;
    state.report.scanned.stored += 1;
    if (recorded.has(o.location) || o.modifiedAt > win.cutoff) continue;
    const upload = deps.blobs.uploadIdOf(o.location);
    if (upload !== undefined && (await deps.metadata.getUpload(upload))) continue;
    const bytes = await w.free(o.location, o.size, win.cutoff);
    if (bytes > 0 || w.dry) recordAction(state.report, { action: 'delete', kind: 'stored', location: o.location, bytes: w.dry ? o.size : bytes, reason: 'no record names it' });
  }
  state.cursor = page.cursor;
  if (page.cursor === undefined) [state.phase, state.cursor] = ['done', undefined];
}

/** Runs one page of the pass and returns its state (the input is updated too). */
export async function runPage(deps: GcDeps, state: GcState, pageSize = 100): Promise<GcState> {
  const w = new Writer(deps, state);
  if (state.phase === 'repositories') await repositoriesPage(deps, state, w, pageSize);
  else if (state.phase === 'blobs') await blobsPage(deps, state, w, pageSize);
  else if (state.phase === 'stored') await storedPage(deps, state, w, pageSize);
  state.report.pages += 1;
  if (state.phase === 'done') state.report.finishedAt = deps.now();
  return state;
}

/** Most passes of a grace-0 run (each level of an index -> manifest -> link -> blob chain takes passes). */
const MAX_PASSES = 12;

/**
 * A whole run in this process: one pass, or with a grace of 0 passes until one changes nothing (a
 * stopped registry: everything unneeded goes at once).
 */
export async function collectGarbage(deps: GcDeps, options: GcOptions, pageSize = 100): Promise<GcReport> {
  const total = emptyReport(options.dryRun, options.graceMs, options.untaggedMs, deps.now());
  let overlay: GcState['overlay'] = { deleted: [], marks: {} };
  for (let pass = 0; pass < (options.graceMs === 0 ? MAX_PASSES : 1); pass++) {
    // A grace of 0 compares marks with the pass's start: the next pass must start later.
    if (pass > 0) await waitPast(deps, total.finishedAt ?? total.startedAt);
    let state = startPass(options, deps.now(), overlay);
    while (state.phase !== 'done') state = await runPage(deps, state, pageSize);
    overlay = state.overlay;
    mergeReports(total, state.report);
    if (!changedAnything(state.report)) break;
  }
  return total;
}

async function waitPast(deps: GcDeps, t: number): Promise<void> {
  while (deps.now() <= t) await new Promise((resolve) => setTimeout(resolve, 2));
}
