// The layout's rules, checked on the import graph of everything that is not a test (functions/,
// dev/, infra/, bench/, scripts/): no import circle anywhere, one direction of dependency (entry
// points -> core -> ports <- adapters), no app importing another app, and nothing that deploys
// importing what never deploys. A violation names the files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, importsOf, sourceFiles, type ImportEdge } from './import-graph.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const files = sourceFiles(ROOT, ['functions', 'dev', 'infra', 'bench', 'scripts']);
const edges = files.flatMap((f) => importsOf(ROOT, f));

const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);
const violations = (from: (f: string) => boolean, to: (e: ImportEdge) => boolean): string[] =>
  edges.filter((e) => from(e.from) && to(e)).map((e) => `${e.from} -> ${e.to}`);
const localTo = (...folders: string[]) => (e: ImportEdge) => e.local && folders.some((f) => under(f)(e.to));

describe('the import graph', () => {
  it('reads the whole tree (sanity: the entry points and their imports are there)', () => {
    expect(files).toContain('functions/apps/server/main.ts');
    expect(files).toContain('dev/start-aws/start.ts');
    expect(edges.filter((e) => e.local).length).toBeGreaterThan(200);
  });

  it('every relative import names a file that exists', () => {
    expect(edges.filter((e) => e.local && !existsSync(join(ROOT, e.to))).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(cycles(files, edges)).toEqual([]);
  });

  it('no app imports another app', () => {
    const appOf = (path: string) => /^functions\/apps\/([^/]+)\//.exec(path)?.[1];
    expect(edges.filter((e) => e.local && appOf(e.from) && appOf(e.to) && appOf(e.from) !== appOf(e.to)).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('what deploys (functions/, infra/) imports nothing from dev/, bench/, test/ or scripts/', () => {
    expect(violations((f) => under('functions')(f) || under('infra')(f), localTo('dev', 'bench', 'test', 'scripts'))).toEqual([]);
  });

  it('infra/ uses no entry point of functions/ (it deploys their bundles)', () => {
    expect(violations(under('infra'), localTo('functions/apps'))).toEqual([]);
  });

  it('core imports only core, node:crypto and pure computation (jose for JWTs, hash-wasm): no I/O, no AWS, no HTTP framework', () => {
    const pure = new Set(['node:crypto', 'jose', 'hash-wasm']);
    expect(violations(under('functions/core'), (e) => (e.local ? !under('functions/core')(e.to) : !pure.has(e.to)))).toEqual([]);
  });

  it('config imports only config; the edge functions only the CloudFront runtime modules, their packaging only node built-ins', () => {
    expect(violations(under('functions/config'), (e) => !e.local || !under('functions/config')(e.to))).toEqual([]);
    const deployedJs = (f: string) => under('functions/edge')(f) && f.endsWith('.js');
    expect(violations(deployedJs, (e) => e.local || !['crypto', 'cloudfront'].includes(e.to))).toEqual([]);
    expect(violations((f) => under('functions/edge')(f) && !deployedJs(f), (e) => e.local || !e.to.startsWith('node:'))).toEqual([]);
  });

  it('an adapter imports core and its own folder only (one folder per technology)', () => {
    const adapterOf = (path: string) => /^functions\/adapters\/([^/]+)\//.exec(path)?.[1];
    const bad = edges.filter((e) => e.local && adapterOf(e.from) && !under('functions/core')(e.to) && adapterOf(e.to) !== adapterOf(e.from));
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('the shared layers look down only: http and aws import neither apps nor each other', () => {
    expect(violations(under('functions/http'), localTo('functions/apps', 'functions/aws', 'functions/adapters'))).toEqual([]);
    expect(violations(under('functions/aws'), localTo('functions/apps', 'functions/http'))).toEqual([]);
  });

  it('finds a circle and names its files (the checker itself)', () => {
    const made: ImportEdge[] = [
      { from: 'a.ts', to: 'b.ts', local: true },
      { from: 'b.ts', to: 'c.ts', local: true },
      { from: 'c.ts', to: 'a.ts', local: true },
      { from: 'c.ts', to: 'd.ts', local: true },
    ];
    expect(cycles(['a.ts', 'b.ts', 'c.ts', 'd.ts'], made)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
