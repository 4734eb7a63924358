// The AWS shape in the benchmark: `start:aws` (dev/start-aws/start.ts) run in this process, so
// that every DynamoDB and S3 request of the API handler (and of the events handler, which has its own
// clients) is counted by the SDK middleware; the ingest process counts its own (REGISTRY_CALL_COUNTS)
// and reports them on /healthz/calls. Body bytes through compute are counted inside the API handler
// (local.apiBytes) and the ingest process (/healthz/calls), functions/aws/compute-bytes.ts; the bytes
// the edge sent straight into S3 by the front door.
// Request logs are at WARN and EMF metrics off here, so the bench's output stays readable.
import { countCalls, type CallCounts } from '../functions/aws/call-counter.ts';
import { resetComputeBytes, type ComputeBytes } from '../functions/aws/compute-bytes.ts';
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
   * Body bytes since the last reset, counted inside the API handler and ingest: upload request bodies
   * they read (manifest bodies are not upload bytes), object bytes they moved to or from S3 through
   * the SDK; and the bytes the edge sent straight into S3 (front door, since `edgeFrom`).
   */
  bytes(edgeFrom: number): Promise<BytesThroughCompute>;
  /** The front door's count of bytes sent from the edge into S3 so far. */
  edgeBytes(): number;
}

export interface BytesThroughCompute {
  /** Upload request body bytes the API handler and ingest read. */
  compute: number;
  /** Object bytes the API handler and ingest wrote to / read from S3. */
  computeS3: { written: number; read: number };
  /** Bytes that went from the edge straight into S3. */
  s3: number;
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
  const local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, ingestEnv: { REGISTRY_CALL_COUNTS: 'on' }, ...(opts.edge === false ? { edge: false } : {}) });
  const env = { ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)), ...local.env };
  // The API handler's and the events handler's clients (each its own Lambda in AWS), both in this process.
  const api: { dynamo: CallCounts; s3: CallCounts } = { dynamo: countCalls(local.deps.dynamo), s3: countCalls(local.deps.s3) };
  const events: { dynamo: CallCounts; s3: CallCounts } = { dynamo: countCalls(local.eventsDeps.dynamo), s3: countCalls(local.eventsDeps.s3) };
  const ingestState = async (reset: boolean): Promise<{ requests: AwsRequests; bytes: ComputeBytes }> => {
    const r = await fetch(`${local.ingest!.url}/healthz/calls${reset ? '?reset' : ''}`);
    const got = (await r.json()) as Record<'dynamo' | 's3', { requests: Record<string, number> }> & { bytes: ComputeBytes };
    return { requests: { dynamo: got.dynamo.requests, s3: got.s3.requests }, bytes: got.bytes };
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
      resetComputeBytes(local.apiBytes);
      await ingestState(true);
    },
    async read() {
      await settle();
      const ingest = (await ingestState(false)).requests;
      return { dynamo: sum(sum(api.dynamo.attempts, events.dynamo.attempts), ingest.dynamo), s3: sum(sum(api.s3.attempts, events.s3.attempts), ingest.s3) };
    },
    async bytes(edgeFrom) {
      const ingest = (await ingestState(false)).bytes;
      const apiBytes = local.apiBytes;
      return {
        compute: (apiBytes.requestBodies.upload ?? 0) + (ingest.requestBodies.upload ?? 0),
        computeS3: { written: apiBytes.s3.written + ingest.s3.written, read: apiBytes.s3.read + ingest.s3.read },
        s3: local.frontDoor.stats.bytes.s3 - edgeFrom,
      };
    },
    edgeBytes: () => local.frontDoor.stats.bytes.s3,
  };
  const url = local.url;
  let stopped: Promise<void> | undefined;
  return {
    side: 'aws',
    impl: `start:aws (API handler behind the API Gateway emulation, ingest, ${opts.edge === false ? 'no edge fast path' : 'CloudFront Functions'}; DynamoDB Local, s3rver)`,
    url,
    host: new URL(url).host,
    logs: [],
    // This process: the API handler, the front door, the events handler and s3rver; and the ingest
    // process (morePids). Not DynamoDB Local (a JVM of its own).
    pid: process.pid,
    morePids: () => (local.ingest ? [local.ingest.pid] : []),
    stop: () => (stopped ??= local.close()),
    aws: handle,
  };
}

export function isAws(t: Target): t is AwsTarget {
  return (t as Partial<AwsTarget>).aws !== undefined;
}
