// Prints the one line CI reads, `tests: N passed, N failed, N skipped`, from vitest's JSON report
// (written by `npm test` to .vitest/results.json). Exits non-zero when a test failed or when there is
// no report (vitest did not run, e.g. lint or type-check failed first); the line is printed anyway.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  success: boolean;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2] ?? join(root, '.vitest', 'results.json');

let report: JsonReport | undefined;
try {
  report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
} catch (err) {
  console.error(`no vitest report at ${file} (${(err as Error).message}); vitest did not run to the end`);
}
const passed = report?.numPassedTests ?? 0;
const failed = report?.numFailedTests ?? 0;
const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = report && report.success && failed === 0 ? 0 : 1;
