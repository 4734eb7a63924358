// Test support for the CDK app: bring the esbuild bundles up to date (`npm run build`, once for
// all test files running in parallel), then synthesize every environment of cdk.json once per
// test file, exactly as `npm run synth` does (same context, cdk-nag registered by buildApp).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../../infra/build-app.ts';
import type { BuiltApp } from '../../infra/build-app.ts';
import type { RegistryStacks } from '../../infra/registry.ts';
import { acquireLock } from './build-lock.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BUNDLES = ['api', 'events', 'ingest', 'upload-keys', 'gc', 'token-key-rotation'] as const;

export function cdkJson(): { app: string; context: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundlesFresh(): boolean {
  const build = join(ROOT, 'infra', 'build.ts');
  const sources = Math.max(
    newestMtime(join(ROOT, 'functions')),
    statSync(join(ROOT, 'package-lock.json')).mtimeMs,
    existsSync(build) ? statSync(build).mtimeMs : 0,
  );
  // dist/web/: the web interface the edge stack deploys.
  return [...BUNDLES.map((b) => join(b, 'index.mjs')), join('web', 'index.html')].every((f) => {
    const file = join(ROOT, 'dist', f);
    return existsSync(file) && statSync(file).mtimeMs >= sources;
  });
}

/** `npm run build` when the bundles are older than the code; one builder at a time. */
export function ensureBundles(): void {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  if (!scripts.build) {
    const missing = BUNDLES.filter((b) => !existsSync(join(ROOT, 'dist', b, 'index.mjs')));
    if (missing.length) throw new Error(`no build script and no dist/{${missing.join(',')}}/index.mjs: the CDK app deploys those bundles`);
    return;
  }
  mkdirSync(join(ROOT, '.vitest'), { recursive: true });
  // A worker killed while building leaves the lock behind: the next one takes it over (build-lock.ts).
  const release = acquireLock(join(ROOT, '.vitest', 'build.lock'), { timeoutMs: 180_000 });
  try {
    if (!bundlesFresh()) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    release();
  }
}

export interface Synthesized {
  readonly built: BuiltApp;
  readonly assembly: CloudAssembly;
  readonly outdir: string;
  registry(env: string): RegistryStacks;
  template(stackName: string): Template;
  templateJson(stackName: string): { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> } & Record<string, unknown>;
  cleanup(): void;
}

/** Synthesize every environment of cdk.json (plus `extraContext`) into a fresh directory. */
export function synthesizeAll(extraContext: Record<string, unknown> = {}): Synthesized {
  ensureBundles();
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-test-'));
  // Asset paths in the app are relative to the project root, as under `cdk synth`.
  const cwd = process.cwd();
  if (cwd !== ROOT) process.chdir(ROOT);
  try {
    const built = buildApp({ outdir, context: { ...cdkJson().context, ...extraContext } }, ROOT);
    const assembly = built.app.synth();
    const templates = new Map<string, Template>();
    const json = (name: string) => assembly.getStackByName(name).template;
    return {
      built,
      assembly,
      outdir,
      registry(env) {
        const r = built.registries.find((x) => x.config.name === env);
        if (!r) throw new Error(`no environment ${env}`);
        return r;
      },
      template(name) {
        let t = templates.get(name);
        if (!t) templates.set(name, (t = Template.fromJSON(json(name))));
        return t;
      },
      templateJson: json,
      cleanup() {
        rmSync(outdir, { recursive: true, force: true });
      },
    };
  } finally {
    if (cwd !== ROOT) process.chdir(cwd);
  }
}

/** A CloudFormation template fragment, read by the assertions below it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** For the beforeAll that synthesizes (2 cores shared with other test files). */
export const SYNTH_TIMEOUT_MS = 180_000;
