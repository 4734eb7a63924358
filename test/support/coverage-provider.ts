// @vitest/coverage-v8, plus the code that ran in the registry processes the tests start.
//
// Most of functions/apps/server (and much of the rest) runs in child processes (`node functions/apps/server/main.ts`,
// started by test/support/registry.ts and the test/apps/server files), where vitest's in-process V8
// coverage cannot see it. With coverage on, this provider points NODE_V8_COVERAGE of those children
// at .vitest/child-coverage (through CHILD_COVERAGE_DIR, which test/support/child-coverage.ts turns
// into NODE_V8_COVERAGE inside each test worker, so only the children, not the workers, write raw
// coverage). After the run it converts what the children wrote for functions/**/*.ts with the v8
// provider's own converter and merges it into the report, so thresholds apply to both.
// Node runs .ts by replacing types with blanks, so V8's offsets are offsets into the original file
// once its types are blanked the same way (module.stripTypeScriptTypes).
import v8 from '@vitest/coverage-v8';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CoverageProvider, CoverageProviderModule, Vitest } from 'vitest/node';

interface RawFunction {
  functionName: string;
  isBlockCoverage: boolean;
  ranges: { startOffset: number; endOffset: number; count: number }[];
}
interface RawScript {
  url: string;
  functions: RawFunction[];
}
interface CoverageMapLike {
  merge(other: unknown): void;
}
/** The parts of the v8 provider used here (public methods of its class, not of the interface). */
interface V8Provider extends CoverageProvider {
  generateCoverage(ctx: { allTestsRun?: boolean }): Promise<CoverageMapLike>;
  remapCoverage(url: string, wrapperLength: number, sources: { code: string; map?: undefined }, functions: RawFunction[]): Promise<unknown>;
}

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const childCoverageDir = join(root, '.vitest', 'child-coverage');
const functionsUrl = pathToFileURL(join(root, 'functions')).href + '/';

async function childScripts(): Promise<RawScript[]> {
  let names: string[];
  try {
    names = await readdir(childCoverageDir);
  } catch {
    return [];
  }
  const scripts: RawScript[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const raw = JSON.parse(await readFile(join(childCoverageDir, name), 'utf8')) as { result: RawScript[] };
    // .ts modules, and the CloudFront Functions (.js) that start:aws runs in its sandbox.
    scripts.push(...raw.result.filter((s) => s.url.startsWith(functionsUrl) && (s.url.endsWith('.ts') || s.url.endsWith('.js'))));
  }
  return scripts;
}

const mod: CoverageProviderModule = {
  ...v8,
  async getProvider(): Promise<CoverageProvider> {
    const provider = (await v8.getProvider()) as V8Provider;
    const initialize = provider.initialize.bind(provider);
    provider.initialize = async (ctx: Vitest) => {
      await initialize(ctx);
      await rm(childCoverageDir, { recursive: true, force: true });
      await mkdir(childCoverageDir, { recursive: true });
      // Read by test/support/child-coverage.ts in each worker (forked with this process's env).
      process.env.CHILD_COVERAGE_DIR = childCoverageDir;
    };
    const generate = provider.generateCoverage.bind(provider);
    provider.generateCoverage = async (ctx) => {
      const map = await generate(ctx);
      const stripped = new Map<string, string>();
      for (const script of await childScripts()) {
        let code = stripped.get(script.url);
        if (code === undefined) {
          const text = await readFile(fileURLToPath(script.url), 'utf8');
          code = script.url.endsWith('.ts') ? stripTypeScriptTypes(text, { mode: 'strip' }) : text;
          stripped.set(script.url, code);
        }
        map.merge(await provider.remapCoverage(script.url, 0, { code }, script.functions));
      }
      return map;
    };
    return provider;
  },
};

export default mod;
