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
  return { ...init, runs: {}, cpu: {}, value: {}, errors: {}, notes: [] };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** ours (or aws) relative to distribution, >1 = better; undefined if a figure is missing. */
export function ratio(row: Row, side: 'ours' | 'aws' = 'ours'): number | undefined {
  const ours = row.value[side];
  const theirs = row.value.distribution;
  if (ours === undefined || theirs === undefined || ours <= 0 || theirs <= 0) return undefined;
  return row.better === 'higher' ? ours / theirs : theirs / ours;
}

export function verdict(row: Row, side: 'ours' | 'aws' = 'ours'): 'PASS' | 'MISS' | 'n/a' | 'info' {
  const target = side === 'ours' ? row.target : row.awsTarget;
  if (target === undefined) return 'info';
  const r = ratio(row, side);
  if (r === undefined) return 'n/a';
  const ok = target.strict ? r > target.min : r >= target.min;
  return ok ? 'PASS' : 'MISS';
}

function fmt(value: number | undefined, unit: string): string {
  if (value === undefined) return '-';
  if (unit === 's' || unit === 'ms') return value.toFixed(2);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatTable(rows: Row[]): string {
  const header = ['metric', 'unit', 'distribution', 'ours', 'aws', 'ours vs dist', 'aws vs dist', 'target (ours / aws)', 'result (ours / aws)'];
  const lines: string[][] = [header];
  const cell = (row: Row, side: Side): string => (row.errors[side] ? 'error' : fmt(row.value[side], row.unit));
  const r = (row: Row, side: 'ours' | 'aws'): string => {
    const v = ratio(row, side);
    return v === undefined ? '-' : `${v.toFixed(2)}x`;
  };
  for (const row of rows) {
    const label = `${row.label}${row.runsWanted > 1 ? ` (median of ${row.runsWanted})` : ''}`;
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
  const out = [render(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(render)];
  const extra: string[] = [];
  for (const row of rows) {
    if (row.skipped !== undefined) extra.push(`- ${row.label}: skipped: ${row.skipped}`);
    for (const side of ['distribution', 'ours', 'aws'] as const) {
      const err = row.errors[side];
      if (err !== undefined) extra.push(`- ${row.label}: ${side} failed: ${err.split('\n').filter(Boolean).slice(0, 20).join(' | ')}`);
    }
    const cpu = (['distribution', 'ours', 'aws'] as const)
      .filter((side) => (row.cpu[side]?.length ?? 0) > 0)
      .map((side) => `${side} ${median(row.cpu[side]!).toFixed(2)} s`);
    if (cpu.length > 0) extra.push(`- ${row.label}: server CPU per run (median): ${cpu.join(', ')}`);
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
  target?: { max: number; text: string };
  error?: string;
  notes: string[];
}

export function newFact(init: Pick<Fact, 'id' | 'label' | 'unit'> & { target?: Fact['target'] }): Fact {
  return { ...init, notes: [] };
}

export function factVerdict(f: Fact): 'PASS' | 'MISS' | 'n/a' | 'info' {
  if (f.target === undefined) return 'info';
  if (f.value === undefined) return 'n/a';
  return f.value <= f.target.max ? 'PASS' : 'MISS';
}

export function formatFacts(facts: Fact[]): string {
  const header = ['AWS shape (start:aws)', 'unit', 'value', 'target', 'result'];
  const lines: string[][] = [header];
  for (const f of facts) {
    const label = `${f.label}${(f.runs?.length ?? 0) > 1 ? ` (median of ${f.runs!.length})` : ''}`;
    const value = f.error !== undefined ? 'error' : f.value === undefined ? '-' : Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(1);
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
