// Prints the coverage of `npm run coverage` per folder of functions/ as a Markdown table (the one in
// the README's Tests section), from the json-summary report vitest wrote.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Metric {
  total: number;
  covered: number;
}
type Metrics = Record<'statements' | 'branches' | 'functions' | 'lines', Metric>;
const kinds = ['statements', 'branches', 'functions', 'lines'] as const;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const summaryFile = process.argv[2] ?? join(root, '.vitest', 'coverage', 'coverage-summary.json');
const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, Metrics>;

const folders = new Map<string, Metrics>();
for (const [file, m] of Object.entries(summary)) {
  if (file === 'total') continue;
  const folder = relative(root, dirname(file));
  const acc = folders.get(folder) ?? (Object.fromEntries(kinds.map((k) => [k, { total: 0, covered: 0 }])) as Metrics);
  for (const k of kinds) {
    acc[k].total += m[k].total;
    acc[k].covered += m[k].covered;
  }
  folders.set(folder, acc);
}

// Truncated to two decimals, as istanbul's own reports do.
const pct = (m: Metric): string => (m.total === 0 ? '100.00' : (Math.floor((10_000 * m.covered) / m.total) / 100).toFixed(2));
const row = (name: string, m: Metrics): string => `| ${name} | ${kinds.map((k) => `${pct(m[k])} %`).join(' | ')} |`;
const total = summary.total;
if (!total) throw new Error(`${summaryFile} has no total`);
console.log('| folder | statements | branches | functions | lines |');
console.log('|---|---|---|---|---|');
for (const folder of [...folders.keys()].sort()) console.log(row(`\`${folder}\``, folders.get(folder)!));
console.log(row('**all of functions/**', total));
