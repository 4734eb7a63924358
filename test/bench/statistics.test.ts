// The bench's statistics (bench/rows.ts, bench/scenarios.ts) and its strace parsing (bench/sync-calls.ts):
// verdicts from the runs' ranges, "within noise" when they overlap across the target, the order of
// the registries rotating run by run and row by row.
import { describe, expect, it } from 'vitest';
import { factVerdict, fmtSpread, newFact, newRow, ratioRange, spread, verdict, type Row } from '../../bench/rows.ts';
import { orderOf } from '../../bench/scenarios.ts';
import { parseStraceSummary } from '../../bench/sync-calls.ts';

function row(better: 'lower' | 'higher', min: number, dist: number[], ours: number[]): Row {
  const r = newRow({ id: 'x', label: 'x', unit: 's', better, runsWanted: dist.length, target: { min, text: '' } });
  r.runs = { distribution: dist, ours };
  r.value = { distribution: spread(dist).median, ours: spread(ours).median };
  return r;
}

describe('bench verdicts', () => {
  it('PASS only when the worst pairing of runs meets the target', () => {
    expect(verdict(row('lower', 1, [1.0, 1.1, 1.2], [0.7, 0.8, 0.9]))).toBe('PASS');
    expect(ratioRange(row('lower', 1, [1.0, 1.1, 1.2], [0.7, 0.8, 0.9]))).toEqual({ worst: 1.0 / 0.9, best: 1.2 / 0.7 });
  });

  it('within noise when the ranges overlap, although the medians alone would say PASS or MISS', () => {
    // Medians 1.00 s and 0.95 s: a single-median verdict says PASS; the runs overlap.
    expect(verdict(row('lower', 1, [0.9, 1.0, 1.3], [0.85, 0.95, 1.2]))).toBe('within noise');
    // Medians say MISS (ours slower), the ranges overlap.
    expect(verdict(row('lower', 1, [0.9, 1.0, 1.3], [0.95, 1.05, 1.1]))).toBe('within noise');
  });

  it('MISS when even the best pairing misses; a 3x target scales the comparison', () => {
    expect(verdict(row('higher', 3, [100, 110, 120], [200, 250, 290]))).toBe('MISS');
    expect(verdict(row('higher', 3, [100, 110, 120], [330, 400, 500]))).toBe('within noise');
    expect(verdict(row('higher', 3, [100, 110, 120], [361, 400, 500]))).toBe('PASS');
  });

  it('one run a side: the ratio itself decides', () => {
    expect(verdict(row('higher', 1, [100], [99]))).toBe('MISS');
    expect(verdict(row('higher', 1, [100], [100]))).toBe('PASS');
  });

  it('a fact with a bound: PASS when every run is within it, within noise when some are', () => {
    const f = newFact({ id: 'c', label: 'c', unit: 'ms', target: { max: 150, text: '' } });
    f.runs = [120, 140, 149];
    f.value = 140;
    expect(factVerdict(f)).toBe('PASS');
    f.runs = [120, 140, 170];
    expect(factVerdict(f)).toBe('within noise');
    f.runs = [160, 170, 180];
    f.value = 170;
    expect(factVerdict(f)).toBe('MISS');
  });

  it('prints median [min-max]', () => {
    expect(fmtSpread(spread([3, 1, 2]), 's')).toBe('2.00 [1.00-3.00]');
    expect(fmtSpread(spread([1500]), 'req/s')).toBe('1500');
  });
});

describe('order of the registries', () => {
  it('rotates run by run, and each row starts with the next registry', () => {
    const t = ['distribution', 'ours', 'aws'];
    expect([0, 1, 2].map((i) => orderOf(t, 0, i)[0])).toEqual(['distribution', 'ours', 'aws']);
    expect(orderOf(t, 1, 0)).toEqual(['ours', 'aws', 'distribution']);
    // Two registries alternate.
    expect([0, 1, 2, 3].map((i) => orderOf(['a', 'b'], 0, i).join(''))).toEqual(['ab', 'ba', 'ab', 'ba']);
  });
});

describe('strace -c summary', () => {
  it('reads calls per system call, with and without an errors column', () => {
    const text = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 88.00    0.000044          44        11           fsync',
      ' 12.00    0.000006           6         2         1 fdatasync',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.000050          25        13         1 total',
    ].join('\n');
    expect(parseStraceSummary(text)).toEqual({ fsync: 11, fdatasync: 2 });
    expect(parseStraceSummary('')).toEqual({});
  });
});
