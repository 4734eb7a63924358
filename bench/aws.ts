// The AWS shape in the benchmark: `start:aws` (dev/start-aws/start.ts) run in this process, so
// that every DynamoDB and S3 request of the API handler (and of the events handler, which has its own
// clients) is counted by the SDK middleware; the ingest process counts its own (REGISTRY_CALL_COUNTS)
// and reports them on /healthz/calls. The front door's stats give the body bytes each origin got.
// Request logs are at WARN and EMF metrics off here, so the bench's output stays readable.
import type { IncomingMessage } from 'node:http';
import { countCalls, type CallCounts } from '../functions/aws/call-counter.ts';
import { isUploadPath } from '../dev/front-door/edge-origin.ts';
import { startAwsLocal, type AwsLocal } from '../dev/start-aws/start.ts';
import type { Target } from './servers.ts';

/** HTTP requests per operation, by AWS service. */
export interface AwsRequests {
  dynamo: Record<string, number>;
  s3: Record<string, number>;
}

export interface AwsHandle {
  local: AwsLocal;
  /** The environment the API handler was configured from (for the cold-start child). */
  env: Record<string, string>;
  /** Forgets the counts so far (API, events and ingest). */
  reset(): Promise<void>;
  /** Requests since the last reset, once the object-created events in flight are handled. */
  read(): Promise<AwsRequests>;
  /**
   * Upload body bytes so far through the API handler and ingest (compute), and straight into S3 (the
   * edge). Manifest bodies are not upload bytes: only requests on upload paths count.
   */
  bytes(): { compute: number; s3: number };
}

export type AwsTarget = Target & { aws: AwsHandle };

const sum = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

export const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

export async function startAws(opts: { edge?: boolean } = {}): Promise<AwsTarget> {
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  // Upload bodies the API handler took (they always carry a Content-Length: streamed ones go to ingest).
  let apiUploadBytes = 0;
  const onRoute = (destination: string, req: IncomingMessage): void => {
    if (destination === 'api' && isUploadPath((req.url ?? '/').split('?')[0] ?? '/')) apiUploadBytes += Number(req.headers['content-length'] ?? 0) || 0;
  };
  const local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, ingestEnv: { REGISTRY_CALL_COUNTS: 'on' }, onRoute, ...(opts.edge === false ? { edge: false } : {}) });
  const env = { ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)), ...local.env };
  // The API handler's and the events handler's clients (each its own Lambda in AWS), both in this process.
  const api: { dynamo: CallCounts; s3: CallCounts } = { dynamo: countCalls(local.deps.dynamo), s3: countCalls(local.deps.s3) };
  const events: { dynamo: CallCounts; s3: CallCounts } = { dynamo: countCalls(local.eventsDeps.dynamo), s3: countCalls(local.eventsDeps.s3) };
  const ingestCalls = async (reset: boolean): Promise<AwsRequests> => {
    const r = await fetch(`${local.ingest!.url}/healthz/calls${reset ? '?reset' : ''}`);
    const got = (await r.json()) as Record<'dynamo' | 's3', { requests: Record<string, number> }>;
    return { dynamo: got.dynamo.requests, s3: got.s3.requests };
  };
  const settle = async (): Promise<void> => {
    const deadline = Date.now() + 10_000;
    await new Promise((r) => setTimeout(r, 25));
    while (local.events.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  const handle: AwsHandle = {
    local,
    env,
    async reset() {
      await settle();
      for (const c of [api.dynamo, api.s3, events.dynamo, events.s3]) c.reset();
      await ingestCalls(true);
    },
    async read() {
      await settle();
      const ingest = await ingestCalls(false);
      return { dynamo: sum(sum(api.dynamo.attempts, events.dynamo.attempts), ingest.dynamo), s3: sum(sum(api.s3.attempts, events.s3.attempts), ingest.s3) };
    },
    bytes() {
      // Ingest serves upload paths only: everything it received is upload bytes.
      const b = local.frontDoor.stats.bytes;
      return { compute: apiUploadBytes + b.ingest, s3: b.s3 };
    },
  };
  const url = local.url;
  let stopped: Promise<void> | undefined;
  return {
    side: 'aws',
    impl: `start:aws (API handler behind the API Gateway emulation, ingest, ${opts.edge === false ? 'no edge fast path' : 'CloudFront Functions'}; DynamoDB Local, s3rver)`,
    url,
    host: new URL(url).host,
    logs: [],
    // This process: the API handler, the front door and the events handler (not ingest, DynamoDB Local or s3rver).
    pid: process.pid,
    stop: () => (stopped ??= local.close()),
    aws: handle,
  };
}

export function isAws(t: Target): t is AwsTarget {
  return (t as Partial<AwsTarget>).aws !== undefined;
}
