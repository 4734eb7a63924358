// The test suite: every test/**/*.test.ts file (test/bench is `npm run bench`, not tests).
// Two projects: `fast` (unit, api, integration, local and any other folder) runs files in parallel
// (each file starts its own registry on a free port in its own temp dir, nothing is shared);
// `serial` (robustness, e2e, aws) runs one file at a time, after `fast` has finished, because those
// files measure timing, kill servers or start real daemons.
import { defineConfig } from 'vitest/config';

const serialDirs = ['robustness', 'e2e', 'aws'];
const serialGlobs = serialDirs.map((d) => `test/${d}/**/*.test.ts`);
const neverTests = ['test/bench/**', 'node_modules/**'];

export default defineConfig({
  test: {
    // node:test had no default timeout; the slow tests set their own.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json', './test/support/skip-reasons-reporter.ts'],
    outputFile: { json: '.vitest/results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: [...neverTests, ...serialGlobs],
          fileParallelism: true,
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: serialGlobs,
          exclude: neverTests,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['functions/**/*.ts'],
      reporter: ['text', 'json-summary'],
      reportsDirectory: '.vitest/coverage',
    },
  },
});
