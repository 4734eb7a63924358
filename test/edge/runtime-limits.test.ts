// CloudFront Functions' limits on the deployed code (10 KB, the runtime's modules only, no network,
// timers or eval, `async function handler(event)`), and that the harness offers no more than the
// runtime does, so a function that passes here does not lean on Node.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importsOf, KeyValueStore, loadEdgeFunction, requestEvent } from '../../dev/cloudfront/harness.ts';
import { EDGE_FUNCTION_MAX_BYTES, edgeFunctionSource, type EdgeFunctionName } from '../../functions/edge/source.ts';

const NAMES: EdgeFunctionName[] = ['viewer-request', 'viewer-response'];
/** Long origin ids, as CDK generates them, so the size check covers the deployed code. */
const LONG_IDS = { ingest: true, edgeUploads: true, s3Origin: 'RegistryStackDistributionOrigin1A2B3C4D5E6F7G8H9', ingestOrigin: 'RegistryStackDistributionOrigin2A2B3C4D5E6F7G8H9', apiOrigin: 'RegistryStackDistributionOrigin3A2B3C4D5E6F7G8H9' };
const deployed = (name: EdgeFunctionName): string => edgeFunctionSource(name, name === 'viewer-request' ? LONG_IDS : undefined);

/** Every module the code loads and every identifier outside the runtime it names, from the parsed source. */
function scan(source: string): { modules: string[]; forbidden: string[]; handlers: string[] } {
  const file = ts.createSourceFile('f.js', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const modules: string[] = [];
  const forbidden: string[] = [];
  const handlers: string[] = [];
  const NODE_ONLY = new Set(['require', 'process', 'module', 'exports', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'XMLHttpRequest', 'eval', 'Function', 'WebAssembly', '__dirname', '__filename']);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) modules.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) forbidden.push('import()');
    if (ts.isExportDeclaration(node) || ts.isExportAssignment(node)) forbidden.push('export');
    if (ts.isIdentifier(node) && NODE_ONLY.has(node.text)) forbidden.push(node.text);
    if (ts.isFunctionDeclaration(node) && node.name?.text === 'handler') {
      const async = node.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false;
      handlers.push(`${async ? 'async ' : ''}function handler(${node.parameters.map((p) => p.name.getText(file)).join(', ')})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  const syntax = ts.transpileModule(source, { reportDiagnostics: true, compilerOptions: { allowJs: true } }).diagnostics ?? [];
  expect(syntax.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  return { modules, forbidden, handlers };
}

describe('CloudFront Functions limits', () => {
  it.each(NAMES)('%s: at most 10 KB as deployed', (name) => {
    const size = Buffer.byteLength(deployed(name));
    expect(size).toBeLessThanOrEqual(EDGE_FUNCTION_MAX_BYTES);
  });

  it.each(NAMES)('%s: imports only the runtime modules cloudfront and crypto, names nothing of Node, one async handler(event)', (name) => {
    const { modules, forbidden, handlers } = scan(deployed(name));
    for (const m of modules) expect(['cloudfront', 'crypto']).toContain(m);
    expect(importsOf(deployed(name)).sort()).toEqual([...modules].sort());
    expect(forbidden).toEqual([]);
    expect(handlers).toEqual(['async function handler(event)']);
  });

  it('the scan sees what it must refuse', () => {
    const bad = scan(`import fs from 'fs';\nconst x = require('http');\nsetTimeout(() => fetch('x'), 1);\nfunction handler(e) { return e; }\n`);
    expect(bad.modules).toEqual(['fs']);
    expect(bad.forbidden).toEqual(['require', 'setTimeout', 'fetch']);
    expect(bad.handlers).toEqual(['function handler(e)']);
  });

  it('the viewer-request settings line is written, and invalid origin ids are refused', () => {
    expect(deployed('viewer-request')).toContain(`var CONFIG = ${JSON.stringify(LONG_IDS)};`);
    expect(() => edgeFunctionSource('viewer-request', { ...LONG_IDS, s3Origin: "x'; evil()" })).toThrow(/origin id/);
    expect(() => edgeFunctionSource('viewer-response', LONG_IDS)).toThrow(/no settings/);
  });
});

describe('the harness offers only the runtime', () => {
  const run = async (body: string): Promise<unknown> => {
    const source = `import cf from 'cloudfront';\nimport crypto from 'crypto';\nasync function handler(event) { ${body} }\n`;
    const fn = loadEdgeFunction('viewer-request', { source });
    const r = await fn.run(requestEvent({ method: 'GET', url: '/v2/', headers: { host: 'h' } }), { now: Date.UTC(2030, 0, 1) });
    return r.kind === 'response' ? JSON.parse(String((r.response.body as { data: string }).data)) : r.request;
  };
  const answer = (expr: string): string => `return { statusCode: 200, headers: {}, body: { encoding: 'text', data: JSON.stringify(${expr}) } };`;

  it('no require, process, timers, fetch or URL; eval and Function refused', async () => {
    for (const name of ['require', 'process', 'setTimeout', 'setImmediate', 'fetch', 'URL', 'TextEncoder', 'module']) {
      expect(await run(answer(`typeof ${name}`))).toBe('undefined');
    }
    await expect(run(`eval('1'); return event.request;`)).rejects.toThrow(/code generation/i);
    await expect(run(`new Function('return 1')(); return event.request;`)).rejects.toThrow(/code generation/i);
  });

  it('crypto: md5/sha1/sha256 with hex, base64, base64url, a Buffer otherwise; nothing else', async () => {
    // RFC 4231 test case 2.
    const rfc4231 = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    const hmac = (enc: string): string => `crypto.createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('${enc}')`;
    expect(await run(answer(hmac('hex')))).toBe(rfc4231);
    expect(await run(answer(hmac('base64url')))).toBe(Buffer.from(rfc4231, 'hex').toString('base64url'));
    expect(await run(answer(hmac('base64')))).toBe(Buffer.from(rfc4231, 'hex').toString('base64'));
    expect(await run(answer(`crypto.createHash('sha256').update('abc').digest('hex')`))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await run(answer(`Buffer.isBuffer(crypto.createHash('md5').update('').digest())`))).toBe(true);
    await expect(run(answer(`crypto.createHash('sha512')`))).rejects.toThrow(/unsupported/);
    await expect(run(answer(`crypto.createHash('sha256').digest('latin1')`))).rejects.toThrow(/unsupported/);
    expect(await run(answer(`Object.keys(crypto).sort()`))).toEqual(['createHash', 'createHmac']);
  });

  it('Date is frozen at the start of the run', async () => {
    expect(await run(answer(`[Date.now(), new Date().getTime()]`))).toEqual([Date.UTC(2030, 0, 1), Date.UTC(2030, 0, 1)]);
  });

  it('a module outside the runtime cannot be loaded', () => {
    expect(() => loadEdgeFunction('viewer-request', { source: `import fs from 'fs';\nasync function handler(e) { return e.request; }` })).toThrow(/no module "fs"/);
  });

  it('results CloudFront would refuse throw: a changed read-only header, an added disallowed header, a changed method', async () => {
    await expect(run(`event.request.headers['content-length'] = { value: '5' }; return event.request;`)).rejects.toThrow(/read-only header content-length/);
    await expect(run(`event.request.headers['x-amz-cf-id'] = { value: '5' }; return event.request;`)).rejects.toThrow(/disallowed header/);
    await expect(run(`event.request.method = 'POST'; return event.request;`)).rejects.toThrow(/method/);
  });

  it('KeyValueStore: get throws on a missing key, as in the runtime', async () => {
    const kvs = new KeyValueStore();
    kvs.set('a', 'b');
    const source = `import cf from 'cloudfront';\nconst kv = cf.kvs();\nasync function handler(event) { let missing = 'no error'; try { await kv.get('zz'); } catch (e) { missing = 'threw'; } return { statusCode: 200, headers: {}, body: { encoding: 'text', data: JSON.stringify([await kv.get('a'), await kv.exists('zz'), missing]) } }; }`;
    const r = await loadEdgeFunction('viewer-request', { source, kvs }).run(requestEvent({ method: 'GET', url: '/', headers: {} }));
    expect(r.kind === 'response' && JSON.parse((r.response.body as { data: string }).data)).toEqual(['b', false, 'threw']);
  });
});

describe('the harness under concurrency', () => {
  it('overlapping runs keep their own origin choice and clock', async () => {
    const kvs = new KeyValueStore();
    kvs.set('slow', 'x');
    // Half the runs await the KeyValueStore before choosing; the others choose at once.
    const source = `import cf from 'cloudfront';\nconst kv = cf.kvs();\nasync function handler(event) { const n = event.request.uri.slice(1); if (Number(n) % 2) await kv.get('slow'); cf.selectRequestOriginById('o' + n); event.request.headers['x-now'] = { value: String(Date.now()) }; return event.request; }`;
    const fn = loadEdgeFunction('viewer-request', { source, kvs });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => fn.run(requestEvent({ method: 'GET', url: `/${i}`, headers: {} }), { now: 1000 * i })));
    results.forEach((r, i) => {
      expect(r.origin).toEqual({ kind: 'id', id: `o${i}` });
      expect(r.kind === 'request' && r.request.headers['x-now']?.value).toBe(String(1000 * i));
    });
  });
});
