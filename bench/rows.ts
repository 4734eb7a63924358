// Result rows of the benchmark: what is measured, both figures, the ratio and the target.
import type { Side } from './servers.ts';

export interface Target {
  /** Ratio (oriented so >1 means ours is better) that meets the target. */
  min: number;
  /** Ratio must be strictly above min (e.g. "lower p99"). */
  strict?: boolean;
  text: string;
}

export interface Row {
  id: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  /** How many runs the median is over. */
  runsWanted: number;
  runs: Partial<Record<Side, number[]>>;
  /** Server CPU seconds (user + system) per run. */
  cpu: Partial<Record<Side, number[]>>;
  /** Of `cpu`, the part of the server's other processes (start:aws: ingest), per run. */
  cpuMore: Partial<Record<Side, number[]>>;
  /** Medians (or the single figure). */
  value: Partial<Record<Side, number>>;
  errors: Partial<Record<Side, string>>;
  target?: Target;
  /** The target for the aws side (start:aws), when it has one. */
  awsTarget?: Target;
  /** Whole row skipped, and why. */
  skipped?: string;
  notes: string[];
}

export function newRow(init: Pick<Row, 'id' | 'label' | 'unit' | 'better' | 'runsWanted'> & { target?: Target; awsTarget?: Target }): Row {
  return { ...init, runs: {}, cpu: {}, cpuMore: {}, value: {}, errors: {}, notes: [] };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The spread of a side's runs. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  return { min: Math.min(...values), median: median(values), max: Math.max(...values), n: values.length };
}

/** The spread of a side's runs of a row, when it has a figure (a side that failed has none). */
export function spreadOf(row: Row, side: Side): Spread | undefined {
  const runs = row.runs[side];
  return row.value[side] === undefined || runs === undefined || runs.length === 0 ? undefined : spread(runs);
}

/** ours (or aws) relative to distribution, >1 = better; undefined if a figure is missing. */
export function ratio(row: Row, side: 'ours' | 'aws' = 'ours'): number | undefined {
  const ours = row.value[side];
  const theirs = row.value.distribution;
  if (ours === undefined || theirs === undefined || ours <= 0 || theirs <= 0) return undefined;
  return row.better === 'higher' ? ours / theirs : theirs / ours;
}

/**
 * The ratio (>1 = better) at the two ends of the runs' ranges: `worst` pairs our worst run with
 * distribution's best, `best` the other way round. With one run a side both are the ratio itself.
 */
export function ratioRange(row: Row, side: 'ours' | 'aws' = 'ours'): { worst: number; best: number } | undefined {
  const ours = spreadOf(row, side);
  const theirs = spreadOf(row, 'distribution');
  if (ours === undefined || theirs === undefined || ours.min <= 0 || theirs.min <= 0) return undefined;
  return row.better === 'higher'
    ? { worst: ours.min / theirs.max, best: ours.max / theirs.min }
    : { worst: theirs.min / ours.max, best: theirs.max / ours.min };
}

export type Verdict = 'PASS' | 'MISS' | 'within noise' | 'n/a' | 'info';

/**
 * PASS when even the worst pairing of runs meets the target, MISS when even the best does not, and
 * "within noise" when the ranges overlap across the target (for a target of 1x: when the two sides'
 * ranges overlap), so that one lucky or unlucky run does not decide the verdict.
 */
export function verdict(row: Row, side: 'ours' | 'aws' = 'ours'): Verdict {
  const target = side === 'ours' ? row.target : row.awsTarget;
  if (target === undefined) return 'info';
  const r = ratioRange(row, side);
  if (r === undefined) return 'n/a';
  const meets = (x: number): boolean => (target.strict ? x > target.min : x >= target.min);
  if (meets(r.worst)) return 'PASS';
  return meets(r.best) ? 'within noise' : 'MISS';
}

export function fmt(value: number | undefined, unit: string): string {
  if (value === undefined) return '-';
  if (unit === 's' || unit === 'ms') return value.toFixed(2);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** `median [min-max]`, or the one figure of a single run. */
export function fmtSpread(s: Spread | undefined, unit: string): string {
  if (s === undefined) return '-';
  return s.n > 1 ? `${fmt(s.median, unit)} [${fmt(s.min, unit)}-${fmt(s.max, unit)}]` : fmt(s.median, unit);
}

export function formatTable(rows: Row[]): string {
  const header = ['metric', 'unit', 'distribution', 'ours', 'aws', 'ours vs dist', 'aws vs dist', 'target (ours / aws)', 'result (ours / aws)'];
  const lines: string[][] = [header];
  const cell = (row: Row, side: Side): string => (row.errors[side] ? 'error' : fmtSpread(spreadOf(row, side), row.unit));
  const r = (row: Row, side: 'ours' | 'aws'): string => {
    const v = ratio(row, side);
    return v === undefined ? '-' : `${v.toFixed(2)}x`;
  };
  for (const row of rows) {
    const label = `${row.label}${row.runsWanted > 1 ? ` (${row.runsWanted} runs)` : ''}`;
    const targets = `${row.target?.text ?? '-'} / ${row.awsTarget?.text ?? '-'}`;
    if (row.skipped !== undefined) {
      lines.push([label, row.unit, '-', '-', '-', '-', '-', targets, `SKIPPED`]);
      continue;
    }
    lines.push([label, row.unit, cell(row, 'distribution'), cell(row, 'ours'), cell(row, 'aws'), r(row, 'ours'), r(row, 'aws'), targets, `${verdict(row)} / ${verdict(row, 'aws')}`]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const render = (l: string[]): string =>
    l.map((c0, c) => (c >= 2 && c <= 6 ? c0.padStart(widths[c]!) : c0.padEnd(widths[c]!))).join('  ').trimEnd();
  const out = [
    'Each figure: median [min-max] of the runs, every run alternating which registry goes first, after one untimed warm-up run each.',
    'Result: PASS when the worst pairing of runs meets the target, MISS when the best does not, within noise otherwise.',
    '',
    render(lines[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.slice(1).map(render),
  ];
  const extra: string[] = [];
  for (const row of rows) {
    if (row.skipped !== undefined) extra.push(`- ${row.label}: skipped: ${row.skipped}`);
    for (const side of ['distribution', 'ours', 'aws'] as const) {
      const err = row.errors[side];
      if (err !== undefined) extra.push(`- ${row.label}: ${side} failed: ${err.split('\n').filter(Boolean).slice(0, 20).join(' | ')}`);
    }
    const cpu = (['distribution', 'ours', 'aws'] as const)
      .filter((side) => (row.cpu[side]?.length ?? 0) > 0)
      .map((side) => `${side} ${fmtSpread(spread(row.cpu[side]!), 's')} s${(row.cpuMore[side]?.length ?? 0) > 0 ? ` (of which ingest ${fmtSpread(spread(row.cpuMore[side]!), 's')} s)` : ''}`);
    if (cpu.length > 0) extra.push(`- ${row.label}: server CPU per run: ${cpu.join(', ')}`);
    for (const note of row.notes) extra.push(`- ${row.label}: ${note}`);
  }
  if (extra.length > 0) out.push('', 'Notes:', ...extra);
  return out.join('\n');
}

/** A figure of the AWS shape alone (no side-by-side): bundle size, cold start, requests per push... */
export interface Fact {
  id: string;
  label: string;
  unit: string;
  value?: number;
  /** Runs the value is the median of (1: a single figure). */
  runs?: number[];
  /** An upper bound (max) or a lower bound (min) that every run should meet. */
  target?: { max: number; text: string } | { min: number; text: string };
  error?: string;
  notes: string[];
}

export function newFact(init: Pick<Fact, 'id' | 'label' | 'unit'> & { target?: Fact['target'] }): Fact {
  return { ...init, notes: [] };
}

/** PASS when every run meets the target, MISS when none does, within noise otherwise. */
export function factVerdict(f: Fact): Verdict {
  if (f.target === undefined) return 'info';
  if (f.value === undefined) return 'n/a';
  const runs = f.runs !== undefined && f.runs.length > 0 ? f.runs : [f.value];
  const t = f.target;
  const meets = (v: number): boolean => ('max' in t ? v <= t.max : v >= t.min);
  if (runs.every(meets)) return 'PASS';
  return runs.some(meets) ? 'within noise' : 'MISS';
}

export function formatFacts(facts: Fact[], title = 'AWS shape (start:aws)'): string {
  const header = [title, 'unit', 'value', 'target', 'result'];
  const lines: string[][] = [header];
  for (const f of facts) {
    const label = `${f.label}${(f.runs?.length ?? 0) > 1 ? ` (${f.runs!.length} runs)` : ''}`;
    const one = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1));
    const range = f.runs !== undefined && f.runs.length > 1 ? ` [${one(Math.min(...f.runs))}-${one(Math.max(...f.runs))}]` : '';
    const value = f.error !== undefined ? 'error' : f.value === undefined ? '-' : `${one(f.value)}${range}`;
    lines.push([label, f.unit, value, f.target?.text ?? '-', factVerdict(f)]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const render = (l: string[]): string => l.map((c0, c) => (c === 2 ? c0.padStart(widths[c]!) : c0.padEnd(widths[c]!))).join('  ').trimEnd();
  const out = [render(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(render)];
  const extra: string[] = [];
  for (const f of facts) {
    if (f.error !== undefined) extra.push(`- ${f.label}: failed: ${f.error.split('\n').slice(0, 6).join(' | ')}`);
    for (const note of f.notes) extra.push(`- ${f.label}: ${note}`);
  }
  if (extra.length > 0) out.push('', 'Notes:', ...extra);
  return out.join('\n');
}
