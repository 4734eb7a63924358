// Run parameters of the bad-input test: the seed (printed once, at import), the request budget and
// the repositories the generated cases use.
import { randomInt } from 'node:crypto';

export const SEED = process.env.ROBUST_SEED !== undefined ? Number(process.env.ROBUST_SEED) : randomInt(2 ** 31);
export const ONLY_CASE = process.env.ROBUST_CASE !== undefined ? Number(process.env.ROBUST_CASE) : undefined;
export const TARGET_REQUESTS = 4000;
export const MIN_REQUESTS = 3000;
export const BUDGET_MS = 32_000;
export const REQ_TIMEOUT_MS = 5000;
export const WORKERS = 12;

export const REPO = 'robust/base';
export const MF = 'robust/mf';
export const OTHER = 'robust/other';
export const FUZZ = 'robust/fuzz';

export const MAX_MANIFEST = 4 * 1024 * 1024;

console.log(`bad-input seed: ${SEED} (rerun with ROBUST_SEED=${SEED})`);
