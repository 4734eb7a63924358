// A vitest reporter that lists every skipped test with the reason it gave (`ctx.skip(reason)`), after
// the default reporter's summary. The default reporter only shows a count for skipped tests, and a
// test that needs a missing client or daemon must say why it did not run.
import type { Reporter, TestModule } from 'vitest/node';
import { relative } from 'node:path';

export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests('skipped')) {
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        lines.push(`  ${relative(process.cwd(), mod.moduleId)} > ${test.fullName}: ${note ?? 'no reason given'}`);
      }
    }
    if (lines.length === 0) return;
    process.stdout.write(`\nSkipped tests (${lines.length}), with the reason:\n${lines.join('\n')}\n`);
  }
}
