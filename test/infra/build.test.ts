// `npm run build` (infra/build.ts): bundles that run as ES modules on their own, and loud failures.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAll, ENTRY_POINTS } from '../../infra/build.ts';

const handlerModule = new URL('../../functions/apps/api-lambda/handler.ts', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'build-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleAll', () => {
  it('writes dist/<name>/index.mjs with a source map, which imports and answers an API Gateway event', async () => {
    const entry = join(dir, 'entry.ts');
    await writeFile(
      entry,
      `import { createApiHandler } from ${JSON.stringify(handlerModule)};
export const handler = createApiHandler(() => async (req) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: req.path, tags: req.query.getAll('tag') }) }));\n`,
    );
    const [bundle, ...rest] = await bundleAll({ outDir: join(dir, 'dist'), entries: { api: entry, missing: join(dir, 'nope.ts') } });
    expect(rest).toEqual([]);
    expect(bundle?.file).toBe(join(dir, 'dist', 'api', 'index.mjs'));
    expect(bundle!.bytes).toBeGreaterThan(1000);
    const code = await readFile(bundle!.file, 'utf8');
    expect(code.startsWith('import { createRequire')).toBe(true);
    expect(code).toContain('//# sourceMappingURL=index.mjs.map');
    expect(JSON.parse(await readFile(`${bundle!.file}.map`, 'utf8'))).toHaveProperty('mappings');
    const mod = (await import(pathToFileURL(bundle!.file).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }> };
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v2/a/manifests/sha256:00',
      rawQueryString: 'tag=x&tag=y',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/v2/a/manifests/sha256:00', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' }, requestId: 'r1' },
    };
    const context = { awsRequestId: 'a1', functionName: 'f', functionVersion: '1', invokedFunctionArn: 'arn', memoryLimitInMB: '128', getRemainingTimeInMillis: () => 1000 };
    const result = await mod.handler(event, context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ path: '/v2/a/manifests/sha256:00', tags: ['x', 'y'] });
  });

  it('the deployed bundles hold code of functions/ and node_modules only: nothing of dev/, test/, bench/, scripts/ or infra/', async () => {
    const bundles = await bundleAll({ outDir: join(dir, 'deployed') });
    expect(bundles.map((b) => b.name).sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    for (const b of bundles) {
      expect(b.inputs.some((i) => i.startsWith('functions/')), b.name).toBe(true);
      expect(b.inputs.filter((i) => !i.startsWith('functions/') && !/(^|\/)node_modules\//.test(i)), b.name).toEqual([]);
    }
  });

  it('fails loudly on an esbuild error', async () => {
    const broken = join(dir, 'broken.ts');
    await writeFile(broken, 'export const x = ;\n');
    // esbuild's own report (file, line) is in the rejection; silent here so the test output stays clean.
    await expect(bundleAll({ outDir: join(dir, 'dist2'), entries: { broken }, logLevel: 'silent' })).rejects.toThrow(/broken\.ts:1:17: ERROR: Unexpected ";"/);
  });
});
