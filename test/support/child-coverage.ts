// Setup file of every test worker: when coverage is on, test/support/coverage-provider.ts sets
// CHILD_COVERAGE_DIR, and the registry processes the tests spawn (with `...process.env`) write their
// V8 coverage there. Set here, inside the worker, so the worker itself does not write any.
const dir = process.env.CHILD_COVERAGE_DIR;
if (dir) process.env.NODE_V8_COVERAGE = dir;
