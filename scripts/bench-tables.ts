// Prints the README's benchmark tables (Markdown) from the last `npm run bench` (.bench/results.json):
// the side-by-side rows as median [min-max] with the ratios and verdicts, the AWS shape's own figures,
// and the per-row notes that back a cause (server CPU per run, sync calls under strace).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, type Spread } from '../bench/rows.ts';

type Side = 'distribution' | 'ours' | 'aws';
interface ResultRow {
  label: string;
  unit: string;
  runs: Partial<Record<Side, number[]>>;
  serverCpuSeconds: Partial<Record<Side, number[]>>;
  spread: Record<Side, Spread | null>;
  ratio: number | null;
  awsRatio: number | null;
  target: { text: string } | null;
  awsTarget: { text: string } | null;
  result: string;
  awsResult: string;
  skipped: string | null;
  errors: Partial<Record<Side, string>>;
  notes: string[];
}
interface ResultFact {
  label: string;
  unit: string;
  value?: number;
  runs?: number[];
  target?: { text: string };
  result: string;
  error?: string;
  notes: string[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2] ?? join(root, '.bench', 'results.json');
const results = JSON.parse(readFileSync(file, 'utf8')) as { date: string; options: { quick: boolean }; loadAverage: { start: number[]; end: number[] }; rows: ResultRow[]; aws: ResultFact[]; ceiling?: ResultFact[]; auth?: ResultFact[] };

const cell = (row: ResultRow, side: Side): string => {
  if (row.errors[side] !== undefined) return 'failed';
  const s = row.spread[side];
  if (!s) return '-';
  return s.n > 1 ? `${fmt(s.median, row.unit)} ${row.unit} [${fmt(s.min, row.unit)}-${fmt(s.max, row.unit)}]` : `${fmt(s.median, row.unit)} ${row.unit}`;
};
const x = (r: number | null): string => (r === null ? '-' : `${r.toFixed(2)}x`);
const verdict = (target: { text: string } | null, result: string): string => (target ? `${target.text}: ${result === 'MISS' ? '**MISS**' : result}` : '-');

console.log(`Run of ${results.date}${results.options.quick ? ' (BENCH_QUICK=1)' : ''}, load average ${results.loadAverage.start.join(' ')} at the start, ${results.loadAverage.end.join(' ')} at the end.`);
console.log('');
console.log('| metric (runs) | distribution 2.8 | npm start | start:aws | npm start vs dist | start:aws vs dist | npm start target | start:aws target |');
console.log('|---|---|---|---|---|---|---|---|');
for (const row of results.rows) {
  if (row.skipped !== null) continue;
  const n = Math.max(...(['distribution', 'ours', 'aws'] as const).map((s) => row.spread[s]?.n ?? 0));
  console.log(`| ${row.label} (${n}) | ${cell(row, 'distribution')} | ${cell(row, 'ours')} | ${cell(row, 'aws')} | ${x(row.ratio)} | ${x(row.awsRatio)} | ${verdict(row.target, row.result)} | ${verdict(row.awsTarget, row.awsResult)} |`);
}
console.log('');
function factsTable(title: string, facts: ResultFact[]): void {
  if (facts.length === 0) return;
  console.log(`| ${title} (runs) | value | target |`);
  console.log('|---|---|---|');
  for (const f of facts) {
    const one = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en-US') : Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1));
    const runs = f.runs ?? [];
    const value = f.error !== undefined ? 'failed' : f.value === undefined ? '-' : `${one(f.value)} ${f.unit}${runs.length > 1 ? ` [${one(Math.min(...runs))}-${one(Math.max(...runs))}]` : ''}`;
    console.log(`| ${f.label} (${Math.max(runs.length, 1)}) | ${value} | ${f.target ? `${f.target.text}: ${f.result === 'MISS' ? '**MISS**' : f.result}` : '-'} |`);
  }
  console.log('');
}
factsTable('Blob PUT ceiling, this machine and run', results.ceiling ?? []);
factsTable('AWS shape alone', results.aws);
factsTable('Token auth (npm start)', results.auth ?? []);
console.log('');
for (const row of results.rows) {
  const cpu = (['distribution', 'ours', 'aws'] as const).filter((side) => (row.serverCpuSeconds[side]?.length ?? 0) > 0).map((side) => {
    const v = row.serverCpuSeconds[side]!;
    const sorted = [...v].sort((a, b) => a - b);
    return `${side} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s [${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)}]`;
  });
  if (cpu.length > 0) console.log(`- ${row.label}: server CPU per run: ${cpu.join(', ')}`);
  for (const note of row.notes) if (/CPU per request|sync-family|sync calls/.test(note)) console.log(`- ${row.label}: ${note}`);
}
for (const f of [...(results.ceiling ?? []), ...results.aws, ...(results.auth ?? [])]) for (const note of f.notes) console.log(`- ${f.label}: ${note}`);
