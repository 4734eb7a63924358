// One cold start of the API Lambda bundle, run in a fresh Node process by the bench: the time Node
// took to start and load this script (its clock starts with the process), then to import
// dist/api/index.mjs, then to answer the first request (a manifest GET by tag, which builds the
// clients, reads the keys and makes the DynamoDB round trip). Prints one `COLD {json}` line.
// argv: <bundle file> <request path>
const bootMs = performance.now();
const { pathToFileURL } = await import('node:url');
const { apiEvent, lambdaContext } = await import('../test/apps/api-lambda/events.ts');

const [bundle, path] = process.argv.slice(2);
if (!bundle || !path) throw new Error('usage: cold-start.ts <bundle> <path>');
const event = apiEvent('GET', path, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
const context = lambdaContext();
const t0 = performance.now();
const mod = (await import(pathToFileURL(bundle).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number }> };
const t1 = performance.now();
const res = await mod.handler(event, context);
const t2 = performance.now();
process.stdout.write(`COLD ${JSON.stringify({ bootMs, importMs: t1 - t0, firstRequestMs: t2 - t1, totalMs: t2 - t0, status: res.statusCode })}\n`);
process.exit(0);
