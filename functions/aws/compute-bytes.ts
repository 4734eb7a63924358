// Body bytes that reach a compute process (the API Lambda, the ingest service), counted where they
// arrive: the request body bytes the registry read, by resource of the route (`upload`, `manifest`,
// ...), and the object bytes the process sent to S3 (PutObject and UploadPart bodies) or received
// from it (GetObject bodies) through the SDK. Used by the tests and the bench in start:aws (the API
// handler's option `computeBytes`, and ingest with REGISTRY_CALL_COUNTS=on); off in deployments.
import type { RegistryRequest } from '../core/http.ts';
import type { Registry } from '../core/registry.ts';
import { matchRoute } from '../core/routes.ts';
import type { CountableClient } from './call-counter.ts';

export interface ComputeBytes {
  /** Request body bytes the registry read, by the resource of the route (`other` off the routes). */
  requestBodies: Record<string, number>;
  /** Object bytes sent to S3 in PutObject/UploadPart bodies, and received in GetObject bodies. */
  s3: { written: number; read: number };
}

export function newComputeBytes(): ComputeBytes {
  return { requestBodies: {}, s3: { written: 0, read: 0 } };
}

export function resetComputeBytes(bytes: ComputeBytes): void {
  for (const k of Object.keys(bytes.requestBodies)) delete bytes.requestBodies[k];
  bytes.s3.written = 0;
  bytes.s3.read = 0;
}

/** A copy, for assertions and JSON. */
export function snapshotComputeBytes(bytes: ComputeBytes): ComputeBytes {
  return { requestBodies: { ...bytes.requestBodies }, s3: { ...bytes.s3 } };
}

async function* counted(body: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    add(chunk.byteLength);
    yield chunk;
  }
}

/** `registry`, counting into `into` every request body byte it reads (as it reads it). */
export function countRequestBodies(registry: Registry, into: ComputeBytes): Registry {
  return (req: RegistryRequest) => {
    if (req.body === undefined) return registry(req);
    const resource = matchRoute(req.path)?.route.resource ?? 'other';
    const add = (n: number): void => {
      into.requestBodies[resource] = (into.requestBodies[resource] ?? 0) + n;
    };
    return registry({ ...req, body: counted(req.body, add) });
  };
}

type Handler = (args: unknown) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
interface HttpMessage {
  headers?: Record<string, string | undefined>;
}

const WRITES = new Set(['PutObjectCommand', 'UploadPartCommand']);
const contentLength = (m: HttpMessage | undefined): number => Number(m?.headers?.['content-length'] ?? 0) || 0;
let seq = 0;

/**
 * Counts the object bytes an S3 client sends (PutObject/UploadPart request bodies, each HTTP attempt)
 * and receives (GetObject response bodies, as S3 declares them in Content-Length). Returns the
 * function that stops counting.
 */
export function countS3ObjectBytes(client: CountableClient, into: ComputeBytes): () => void {
  const name = `countS3ObjectBytes#${++seq}`;
  client.middlewareStack.add(
    ((next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (WRITES.has(command)) into.s3.written += contentLength((args as { request?: HttpMessage }).request);
      const out = await next(args);
      if (command === 'GetObjectCommand') into.s3.read += contentLength((out as { response?: HttpMessage }).response);
      return out;
    }) satisfies Middleware,
    // Below the retry middleware, like the call counter's attempts: once per HTTP request.
    { step: 'finalizeRequest', name, priority: 'low' },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}
