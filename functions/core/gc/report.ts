// What a GC run did (or, dry, would do): counts and bytes per kind of action, and the actions
// themselves up to a limit, each with its reason. Plain JSON, so a run can be saved between pages.
import { repositoryPaths } from '../shared-cache.ts';

export type GcKind = 'tag' | 'manifest' | 'link' | 'blob' | 'stored';
export type GcActionName = 'delete' | 'mark' | 'unmark';

export interface GcAction {
  action: GcActionName;
  kind: GcKind;
  repo?: string;
  digest?: string;
  /** A tag removed by a retention rule: the tag, and the rule (reason says why it applies). */
  tag?: string;
  rule?: string;
  location?: string;
  /** Bytes freed in storage (blob records and stored objects); size of the item otherwise. */
  bytes: number;
  reason: string;
}

export interface GcReport {
  dryRun: boolean;
  graceMs: number;
  untaggedMs: number;
  startedAt: number;
  finishedAt?: number;
  /** Passes run (a grace of 0 runs passes until one changes nothing). */
  passes: number;
  /** Pages processed, over all passes. */
  pages: number;
  scanned: { repositories: number; manifests: number; links: number; blobs: number; stored: number };
  /** `delete.blob` etc.: how many items. */
  counts: Record<string, number>;
  /** Storage bytes freed (or that would be): blob records' bytes and unrecorded stored objects. */
  bytesFreed: number;
  actions: GcAction[];
  /** Actions left out of `actions` (over the limit). */
  actionsOmitted: number;
  /**
   * What a shared cache in front of the registry (CloudFront) may hold that this run made stale:
   * the repositories whose tags, manifests or blob links it deleted, or every repository past
   * MAX_PURGED_REPOS (absent in a state saved before it was added, or when nothing was deleted).
   */
  purge?: GcPurge;
}

export interface GcPurge {
  repos: string[];
  all: boolean;
}

/** Most repositories purged one by one (CloudFront has at most 15 wildcard paths in progress); past it, `/v2/*`. */
export const MAX_PURGED_REPOS = 10;

/** Most actions kept in a report (a run's state carries it between pages). */
export const MAX_REPORTED_ACTIONS = 2000;

export function emptyReport(dryRun: boolean, graceMs: number, untaggedMs: number, startedAt: number): GcReport {
  return {
    dryRun, graceMs, untaggedMs, startedAt, passes: 0, pages: 0,
    scanned: { repositories: 0, manifests: 0, links: 0, blobs: 0, stored: 0 },
    counts: {}, bytesFreed: 0, actions: [], actionsOmitted: 0,
  };
}

export function recordAction(report: GcReport, a: GcAction): void {
  const key = `${a.action}.${a.kind}`;
  report.counts[key] = (report.counts[key] ?? 0) + 1;
  if (a.action === 'delete' && (a.kind === 'blob' || a.kind === 'stored')) report.bytesFreed += a.bytes;
  if (a.action === 'delete' && a.repo !== undefined && !report.dryRun) notePurge(report, [a.repo], false);
  if (report.actions.length < MAX_REPORTED_ACTIONS) report.actions.push(a);
  else report.actionsOmitted += 1;
}

/** Whether the pass changed anything (marked or deleted): a grace-0 run repeats until it does not. */
export function changedAnything(report: GcReport): boolean {
  return Object.entries(report.counts).some(([k, n]) => n > 0 && (k.startsWith('delete.') || k.startsWith('mark.')));
}

/** Adds one pass's report to the run's. */
export function mergeReports(into: GcReport, pass: GcReport): GcReport {
  into.passes += 1;
  into.pages += pass.pages;
  for (const k of Object.keys(into.scanned) as (keyof GcReport['scanned'])[]) into.scanned[k] = Math.max(into.scanned[k], pass.scanned[k]);
  for (const [k, n] of Object.entries(pass.counts)) into.counts[k] = (into.counts[k] ?? 0) + n;
  into.bytesFreed += pass.bytesFreed;
  for (const a of pass.actions) {
    if (into.actions.length < MAX_REPORTED_ACTIONS) into.actions.push(a);
    else into.actionsOmitted += 1;
  }
  into.actionsOmitted += pass.actionsOmitted;
  if (pass.purge) notePurge(into, pass.purge.repos, pass.purge.all);
  into.finishedAt = pass.finishedAt;
  return into;
}

/** Notes repositories (or, `all`, every one) whose cached answers a run made stale. */
export function notePurge(report: GcReport, repos: readonly string[], all: boolean): void {
  const purge = (report.purge ??= { repos: [], all: false });
  if (purge.all) return;
  for (const repo of repos) if (!purge.repos.includes(repo)) purge.repos.push(repo);
  if (all || purge.repos.length > MAX_PURGED_REPOS) report.purge = { repos: [], all: true };
}

/** The paths to invalidate in a shared cache after the run (none: nothing it deleted was servable). */
export function purgePaths(report: GcReport): string[] {
  if (!report.purge) return [];
  return report.purge.all ? ['/v2/*'] : report.purge.repos.flatMap(repositoryPaths);
}

/** Bytes as people read them (1.5 MiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The report as lines of text: one per action, then the totals. */
export function formatReport(r: GcReport): string {
  const verb = (a: GcActionName) => (r.dryRun ? { delete: 'would delete', mark: 'would mark', unmark: 'would unmark' }[a] : { delete: 'deleted', mark: 'marked', unmark: 'unmarked' }[a]);
  const lines = r.actions.map((a) => {
    if (a.kind === 'tag') return `${verb(a.action)} tag ${a.repo}:${a.tag} (was ${a.digest}) by rule ${a.rule}: ${a.reason}`;
    const what = a.kind === 'stored' ? a.location : `${a.repo ? `${a.repo}@` : ''}${a.digest}`;
    return `${verb(a.action)} ${a.kind} ${what} (${formatBytes(a.bytes)}): ${a.reason}`;
  });
  if (r.actionsOmitted > 0) lines.push(`... and ${r.actionsOmitted} more actions`);
  const counts = Object.entries(r.counts).sort().map(([k, n]) => `${k}=${n}`).join(' ') || 'nothing to do';
  const s = r.scanned;
  lines.push(`${r.dryRun ? 'dry run' : 'gc'}: ${counts}`);
  lines.push(`${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytesFreed)} (${r.bytesFreed} bytes); scanned ${s.repositories} repositories, ${s.manifests} manifests, ${s.links} links, ${s.blobs} blobs, ${s.stored} stored objects in ${r.passes} pass(es)`);
  return lines.join('\n');
}
