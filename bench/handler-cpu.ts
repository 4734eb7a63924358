// The API handler's own CPU per manifest GET by tag, run in a fresh Node process by the bench
// (handler-cpu-facts.ts): imports the built bundle, answers `warmup` untimed requests, then `n` timed
// ones one after another, taking process.cpuUsage() (user + system, every thread of this process:
// the handler, the SDK, logging, GC) around each. DynamoDB answers from the replay stand-in
// (dynamo-replay.ts), so its CPU is not in here. Prints one `CPU {json}` line.
// argv: <bundle file> <request path> <n> <warmup>
const { pathToFileURL } = await import('node:url');
const { apiEvent, lambdaContext } = await import('../test/apps/api-lambda/events.ts');

const [bundle = '', path = '', nText = '', warmupText = ''] = process.argv.slice(2);
if (!bundle || !path || !nText || !warmupText) throw new Error('usage: handler-cpu.ts <bundle> <path> <n> <warmup>');
const mod = (await import(pathToFileURL(bundle).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number; body?: string }> };
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const statuses = new Map<number, number>();
async function once(): Promise<number> {
  const event = apiEvent('GET', path, { headers: { accept } });
  const context = lambdaContext();
  const c0 = process.cpuUsage();
  const res = await mod.handler(event, context);
  const d = process.cpuUsage(c0);
  statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
  return d.user + d.system;
}

for (let i = 0; i < Number(warmupText); i++) await once();
statuses.clear();
const us: number[] = [];
const wall0 = performance.now();
for (let i = 0; i < Number(nText); i++) us.push(await once());
const wallMs = performance.now() - wall0;
us.sort((a, b) => a - b);
const at = (q: number): number => us[Math.min(us.length - 1, Math.floor(q * us.length))]!;
process.stdout.write(
  `\nCPU ${JSON.stringify({ n: us.length, medianUs: at(0.5), p10Us: at(0.1), p90Us: at(0.9), p99Us: at(0.99), meanUs: us.reduce((a, b) => a + b, 0) / us.length, wallMs, statuses: Object.fromEntries(statuses) })}\n`,
);
process.exit(0);
