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
  /** Whole row skipped, and why. */
  skipped?: string;
  notes: string[];
}

export function newRow(init: Pick<Row, 'id' | 'label' | 'unit' | 'better' | 'runsWanted'> & { target?: Target }): Row {
  return { ...init, runs: {}, cpu: {}, value: {}, errors: {}, notes: [] };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** ours relative to distribution, >1 = ours better; undefined if a figure is missing. */
export function ratio(row: Row): number | undefined {
  const ours = row.value.ours;
  const theirs = row.value.distribution;
  if (ours === undefined || theirs === undefined || ours <= 0 || theirs <= 0) return undefined;
  return row.better === 'higher' ? ours / theirs : theirs / ours;
}

export function verdict(row: Row): 'PASS' | 'MISS' | 'n/a' | 'info' {
  if (row.target === undefined) return 'info';
  const r = ratio(row);
  if (r === undefined) return 'n/a';
  const ok = row.target.strict ? r > row.target.min : r >= row.target.min;
  return ok ? 'PASS' : 'MISS';
}

function fmt(value: number | undefined, unit: string): string {
  if (value === undefined) return '-';
  if (unit === 's' || unit === 'ms') return value.toFixed(2);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatTable(rows: Row[]): string {
  const header = ['metric', 'unit', 'distribution', 'ours', 'ours vs dist (>1 = ours better)', 'target', 'result'];
  const lines: string[][] = [header];
  for (const row of rows) {
    const label = `${row.label}${row.runsWanted > 1 ? ` (median of ${row.runsWanted})` : ''}`;
    if (row.skipped !== undefined) {
      lines.push([label, row.unit, '-', '-', '-', row.target?.text ?? '-', `SKIPPED`]);
      continue;
    }
    const r = ratio(row);
    lines.push([
      label,
      row.unit,
      row.errors.distribution ? 'error' : fmt(row.value.distribution, row.unit),
      row.errors.ours ? 'error' : fmt(row.value.ours, row.unit),
      r === undefined ? '-' : `${r.toFixed(2)}x`,
      row.target?.text ?? '-',
      verdict(row),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const render = (l: string[]): string =>
    l.map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const out = [render(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(render)];
  const extra: string[] = [];
  for (const row of rows) {
    if (row.skipped !== undefined) extra.push(`- ${row.label}: skipped: ${row.skipped}`);
    for (const side of ['distribution', 'ours'] as const) {
      const err = row.errors[side];
      if (err !== undefined) extra.push(`- ${row.label}: ${side} failed: ${err.split('\n').slice(0, 6).join(' | ')}`);
    }
    const cpu = (['distribution', 'ours'] as const)
      .filter((side) => (row.cpu[side]?.length ?? 0) > 0)
      .map((side) => `${side} ${median(row.cpu[side]!).toFixed(2)} s`);
    if (cpu.length > 0) extra.push(`- ${row.label}: server CPU per run (median): ${cpu.join(', ')}`);
    for (const note of row.notes) extra.push(`- ${row.label}: ${note}`);
  }
  if (extra.length > 0) out.push('', 'Notes:', ...extra);
  return out.join('\n');
}
