// The API handler's own CPU per manifest GET by tag, run in a fresh Node process by the bench
// (handler-cpu-facts.ts): imports the built bundle, answers `warmup` untimed requests, then `n` timed
// ones one after another, taking process.cpuUsage() (user + system, every thread of this process:
// the handler, the SDK, logging, GC) around each. DynamoDB answers from the replay stand-in
// (dynamo-replay.ts), so its CPU is not in here. Interleaved with each request, the floor: the same
// GetItem made alone with the SDK's DynamoDB client as the handler configures it (region, retries,
// endpoint), which any handler built on the SDK pays per read; the same GetItem alone by the lean
// client the handler reads with (functions/adapters/dynamodb/get-item-client.ts); and that GetItem
// plus the output every manifest GET must leave (docs/deploy.md, docs/auth.md), made with the same
// Powertools calls as the handler: the request line, the audit `pull` line and the request's
// metric document, in one write. Prints one `CPU {json}` line.
// argv: <bundle file> <request path> <n> <warmup> [socket|memory]: with `memory`, DynamoDB is mocked
// at the wire inside this process (memory-wire.ts): no kernel socket, whose loopback receive work
// would otherwise be charged to this process.
const { pathToFileURL } = await import('node:url');
const { apiEvent, lambdaContext } = await import('../test/apps/api-lambda/events.ts');
const { DynamoDBClient, GetItemCommand } = await import('@aws-sdk/client-dynamodb');
const { unmarshall } = await import('@aws-sdk/util-dynamodb');
const { tagKey } = await import('../functions/adapters/dynamodb/keys.ts');
const { GetItemClient } = await import('../functions/adapters/dynamodb/get-item-client.ts');
const { Logger } = await import('@aws-lambda-powertools/logger');
const { Metrics, MetricUnit } = await import('@aws-lambda-powertools/metrics');

const [bundle = '', path = '', nText = '', warmupText = '', wire = 'socket'] = process.argv.slice(2);
if (!bundle || !path || !nText || !warmupText || (wire !== 'socket' && wire !== 'memory')) throw new Error('usage: handler-cpu.ts <bundle> <path> <n> <warmup> [socket|memory]');
const memoryWire = wire === 'memory' ? (await import('./memory-wire.ts')).installMemoryWire(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '') : undefined;
const mod = (await import(pathToFileURL(bundle).href)) as { handler: (e: unknown, c: unknown) => Promise<{ statusCode?: number; body?: string }> };
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const [, repo = '', tag = ''] = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path) ?? [];
const key = tagKey(repo, tag);
const sdk = new DynamoDBClient({ region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 4, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
const getItem = new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true });
const lean = new GetItemClient(sdk);
async function cpuOf(read: () => Promise<{ Item?: Parameters<typeof unmarshall>[0] }>): Promise<number> {
  const c0 = process.cpuUsage();
  const out = await read();
  if (out.Item) unmarshall(out.Item);
  const d = process.cpuUsage(c0);
  return d.user + d.system;
}
const floor = () => cpuOf(() => sdk.send(getItem));
const leanFloor = () => cpuOf(() => lean.getItem(getItem.input));
// The output floor's logger and metrics, configured as the handler's (functions/apps/api-lambda/handler.ts).
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });
const outputFloor = () =>
  cpuOf(async () => {
    const started = performance.now();
    const out = await lean.getItem(getItem.input);
    process.stdout.cork();
    logger.info('pull', { action: 'pull', repository: repo, reference: tag, actor: 'anonymous', address: '' });
    logger.info('request', { method: 'GET', path, operation: 'manifest.get', status: 200, ms: Math.round((performance.now() - started) * 10) / 10, bytesIn: 0, bytesOut: 1000 });
    metrics.addDimensions({ operation: 'manifest.get', statusClass: '2xx' });
    metrics.addMetric('Requests', MetricUnit.Count, 1);
    metrics.addMetric('Latency', MetricUnit.Milliseconds, performance.now() - started);
    metrics.addMetric('BytesIn', MetricUnit.Bytes, 0);
    metrics.addMetric('BytesOut', MetricUnit.Bytes, 1000);
    metrics.publishStoredMetrics();
    process.stdout.uncork();
    return out;
  });

const statuses = new Map<number, number>();
/** Kernel (system) time of each timed request: Linux splits user and system time by sampling, so only its mean means anything. */
const sysUs: number[] = [];
async function once(): Promise<number> {
  const event = apiEvent('GET', path, { headers: { accept } });
  const context = lambdaContext();
  const c0 = process.cpuUsage();
  const res = await mod.handler(event, context);
  const d = process.cpuUsage(c0);
  statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
  sysUs.push(d.system);
  return d.user + d.system;
}

for (let i = 0; i < Number(warmupText); i++) {
  await once();
  await floor();
  await leanFloor();
  await outputFloor();
}
statuses.clear();
sysUs.length = 0;
const us: number[] = [];
const floorUs: number[] = [];
const leanUs: number[] = [];
const outputUs: number[] = [];
let wallMs = 0;
for (let i = 0; i < Number(nText); i++) {
  const t0 = performance.now();
  us.push(await once());
  wallMs += performance.now() - t0;
  floorUs.push(await floor());
  leanUs.push(await leanFloor());
  outputUs.push(await outputFloor());
}
const at = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
us.sort((a, b) => a - b);
floorUs.sort((a, b) => a - b);
leanUs.sort((a, b) => a - b);
outputUs.sort((a, b) => a - b);
// Exit once the line is out: a pipe under load may still hold the log lines before it.
process.stdout.write(
  `\nCPU ${JSON.stringify({ n: us.length, medianUs: at(us, 0.5), p10Us: at(us, 0.1), p90Us: at(us, 0.9), p99Us: at(us, 0.99), meanUs: us.reduce((a, b) => a + b, 0) / us.length, wallMs, floorMedianUs: at(floorUs, 0.5), leanFloorMedianUs: at(leanUs, 0.5), outputFloorMedianUs: at(outputUs, 0.5), sysMeanUs: sysUs.reduce((a, b) => a + b, 0) / Math.max(1, sysUs.length), wire, ...(memoryWire ? { memoryWire: memoryWire.stats } : {}), statuses: Object.fromEntries(statuses) })}\n`,
);
process.exit(0);
