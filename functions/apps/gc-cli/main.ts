// `npm run gc -- [--dry-run] [--grace 6h] [--untagged 1d] [--json]`: one garbage collection run on the
// embedded default's data dir (REGISTRY_DATA_DIR, as `npm start`). Safe while `npm start` serves the
// same data dir (SQLite in WAL mode, conditional writes, the grace window: docs/gc.md). A grace of 0
// collects everything unneeded at once: only for a stopped registry (or tests).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FsBlobStore } from '../../adapters/fs/fs-blob-store.ts';
import { IDENTITY_DB, SqliteIdentityStore } from '../../adapters/sqlite/sqlite-identity.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-metadata.ts';
import { projectRetention } from '../../core/gc/retention.ts';
import { ConfigError, EXIT_CONFIG } from '../../config/config-error.ts';
import { parseDuration } from '../../config/duration.ts';
import { collectGarbage } from '../../core/gc/run.ts';
import { formatReport } from '../../core/gc/report.ts';
import { TokenSigner } from '../../core/tokens.ts';

export const DEFAULT_GRACE = '6h';
export const DEFAULT_UNTAGGED = '1d';

const USAGE = `usage: npm run gc -- [--dry-run] [--grace 6h] [--untagged 1d] [--json]
  --dry-run     report what would be deleted and the bytes it would free; change nothing
  --grace D     keep everything written in the last D (default ${DEFAULT_GRACE}; 0 only with the registry stopped)
  --untagged D  keep untagged manifests younger than D (default ${DEFAULT_UNTAGGED})
  --json        print the report as JSON`;

function duration(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(`--${flag} must be a duration such as 6h, 30m, 90s or 0, got ${JSON.stringify(value)}`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'dry-run': { type: 'boolean' }, grace: { type: 'string' }, untagged: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const graceMs = duration('grace', values.grace ?? DEFAULT_GRACE);
  const untaggedMs = duration('untagged', values.untagged ?? DEFAULT_UNTAGGED);
  const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dataDir = resolve(process.env.REGISTRY_DATA_DIR || join(projectDir, 'data'));
  if (!existsSync(join(dataDir, 'registry.db'))) throw new ConfigError(`no registry data in ${dataDir}: set REGISTRY_DATA_DIR to the data dir \`npm start\` uses`);
  const metadata = new SqliteMetadataStore(join(dataDir, 'registry.db'));
  // The projects' retention rules (`npm run admin -- policy retention`), when there are projects.
  const identity = existsSync(join(dataDir, IDENTITY_DB)) ? new SqliteIdentityStore(join(dataDir, IDENTITY_DB)) : undefined;
  try {
    // GC never signs a blob URL: the store's signer is a throwaway.
    const blobs = new FsBlobStore(dataDir, new TokenSigner(randomBytes(32)));
    const deps = { metadata, blobs, now: Date.now, ...(identity ? { retention: projectRetention(identity) } : {}) };
    const report = await collectGarbage(deps, { graceMs, untaggedMs, dryRun: values['dry-run'] === true });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  } finally {
    metadata.close();
    identity?.close();
  }
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`gc: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(EXIT_CONFIG);
  }
  process.stderr.write(`gc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
