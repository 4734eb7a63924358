// The test suite: every test/**/*.test.ts file (test/bench is `npm run bench`, not tests).
// Two projects: `fast` (unit, api, integration, local and any other folder) runs files in parallel
// (each file starts its own registry on a free port in its own temp dir, nothing is shared);
// `serial` (robustness, e2e, aws) runs one file at a time, after `fast` has finished, because those
// files measure timing, kill servers or start real daemons. Then `aws-shape` runs test/api and
// test/e2e again against `npm run start:aws` (REGISTRY_BACKEND=aws, see test/support/registry.ts):
// the API files two at a time (each file starts its own start:aws, with a DynamoDB Local JVM), then
// the e2e files one at a time, after `serial`.
import { defineConfig } from 'vitest/config';

const serialDirs = ['robustness', 'e2e', 'aws'];
const serialGlobs = serialDirs.map((d) => `test/${d}/**/*.test.ts`);
const neverTests = ['test/bench/**', 'node_modules/**'];

export default defineConfig({
  // Vite's cache (vitest keeps test durations there to start the slowest files first) stays in
  // this checkout, not in node_modules.
  cacheDir: '.vitest/cache',
  test: {
    // Test files and the code under test are loaded by Node itself (type stripping, as `npm start`
    // runs it), not through Vite's transforms; coverage then converts V8's offsets the same way for
    // the test workers and for the registry processes they start (test/support/coverage-provider.ts).
    // Module mocking (vi.mock) needs Vite's runner and is not available: fake AWS faults with
    // aws-sdk-client-mock, and single methods with vi.spyOn.
    experimental: { viteModuleRunner: false },
    // node:test had no default timeout; the slow tests set their own.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ['test/support/child-coverage.ts'],
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
      {
        extends: true,
        test: {
          name: 'aws-shape-api',
          include: ['test/api/**/*.test.ts'],
          exclude: neverTests,
          env: { REGISTRY_BACKEND: 'aws' },
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: {
          name: 'aws-shape-e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: neverTests,
          env: { REGISTRY_BACKEND: 'aws' },
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
    ],
    coverage: {
      // @vitest/coverage-v8 plus what ran in the registry child processes (see the file).
      provider: 'custom',
      customProviderModule: './test/support/coverage-provider.ts',
      include: ['functions/**/*.ts'],
      reporter: ['text', 'json-summary', 'json'],
      reportsDirectory: '.vitest/coverage',
      // The figures of the run that introduced coverage (see the README's Tests section) minus one
      // point: the run fails when coverage drops below them, overall or in one of these folders.
      thresholds: {
        statements: 94.65,
        branches: 90.64,
        functions: 93.6,
        lines: 96.54,
        'functions/adapters/local/*.ts': { statements: 96.37, branches: 90.83, functions: 96.26, lines: 97.28 },
        'functions/core/*.ts': { statements: 97.33, branches: 97.01, functions: 97.38, lines: 98.58 },
        'functions/core/handlers/*.ts': { statements: 96.56, branches: 95.72, functions: 95.55, lines: 97.09 },
        'functions/local/*.ts': { statements: 88.21, branches: 78.56, functions: 82.33, lines: 92.95 },
      },
    },
  },
});
