// `npm run build`: one esbuild bundle per deployable entry point, as the CDK app deploys them:
// dist/<name>/index.mjs (ESM, Node 24, minified, with a source map). The AWS SDK is bundled, not
// taken from the runtime, so cold starts do not depend on the runtime's SDK version; pass
// --external-aws-sdk to measure the other way. Entry points that do not exist yet are skipped.
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildResult } from 'esbuild';
import { buildUi, UI_DIST_DIR, writeUi } from '../functions/web/bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** name -> entry file (relative to the repository root, or absolute). */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  api: 'functions/apps/api-lambda/index.ts',
  events: 'functions/apps/events-lambda/index.ts',
  ingest: 'functions/apps/ingest/index.ts',
  // One step of a garbage collection run, driven by the GC state machine (gc stack).
  gc: 'functions/apps/gc-lambda/index.ts',
  // Deploy-time: publishes the upload-token keys into the edge's KeyValueStore (edge stack).
  'upload-keys': 'functions/apps/upload-keys-lambda/index.ts',
  // Rotates the token keys secret, invoked by Secrets Manager (keys stack).
  'token-key-rotation': 'functions/apps/token-key-rotation-lambda/index.ts',
};

// ESM output still meets CommonJS dependencies that call require() for Node built-ins.
const BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface BundleOptions {
  outDir?: string;
  /** Leave @aws-sdk/* to the Lambda runtime instead of bundling it. */
  externalAwsSdk?: boolean;
  entries?: Readonly<Record<string, string>>;
  /** esbuild's own printing of errors and warnings (default 'warning'); its errors also reject. */
  logLevel?: 'silent' | 'warning';
}

export interface Bundle {
  name: string;
  file: string;
  bytes: number;
  /** Every source file in the bundle, relative to the repository root (esbuild's metafile). */
  inputs: string[];
}

export async function bundleAll(opts: BundleOptions = {}): Promise<Bundle[]> {
  const outDir = opts.outDir ?? join(root, 'dist');
  const entries = Object.entries(opts.entries ?? ENTRY_POINTS).filter(([, entry]) => existsSync(resolve(root, entry)));
  const bundles: Bundle[] = [];
  for (const [name, entry] of entries) {
    const dir = join(outDir, name);
    await rm(dir, { recursive: true, force: true });
    const file = join(dir, 'index.mjs');
    const result: BuildResult = await build({
      absWorkingDir: root,
      entryPoints: [resolve(root, entry)],
      outfile: file,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      // The SDK's `module` builds are ES modules that tree-shake far better than its CommonJS ones.
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'external',
      metafile: true,
      banner: { js: BANNER },
      external: opts.externalAwsSdk ? ['@aws-sdk/*', '@smithy/*'] : [],
      // esbuild prints errors (with file and line) and warnings itself; build() rejects on errors.
      logLevel: opts.logLevel ?? 'warning',
    });
    if (result.errors.length > 0) throw new Error(`${name}: ${result.errors.length} esbuild errors`);
    bundles.push({ name, file, bytes: statSync(file).size, inputs: Object.keys(result.metafile?.inputs ?? {}) });
  }
  return bundles;
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const externalAwsSdk = process.argv.includes('--external-aws-sdk');
  const bundles = await bundleAll({ externalAwsSdk });
  if (bundles.length === 0) {
    process.stderr.write(`no entry point exists yet (looked for ${Object.values(ENTRY_POINTS).join(', ')})\n`);
    process.exitCode = 1;
    return;
  }
  for (const b of bundles) process.stdout.write(`${relative(root, b.file)}  ${kib(b.bytes)}${externalAwsSdk ? '  (@aws-sdk external)' : ''}\n`);
  // The web interface: what `npm start` builds in memory, as files (index.html, ui/*).
  const ui = await buildUi();
  await writeUi(ui);
  for (const f of ui) process.stdout.write(`${relative(root, join(UI_DIST_DIR, f.path === '/' ? 'index.html' : f.path.slice(1)))}  ${kib(f.body.length)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    // esbuild's own message lists every error with file and line.
    process.stderr.write(`build failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
