// start:aws in this process with every AWS call counted: the API handler's (and the events
// handler's) through countCalls on deps.dynamo / deps.s3, the ingest process's through its
// /healthz/calls endpoint (REGISTRY_CALL_COUNTS=on), and the request body bytes each origin got
// from the front door's stats. Shared by the round-trip, crash and large-layer tests.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { countCalls, type CallCounts } from '../../functions/aws/call-counter.ts';
import { startAwsLocal, type AwsLocal } from '../../dev/start-aws/start.ts';
import { newComputeBytes, resetComputeBytes, snapshotComputeBytes, type ComputeBytes } from '../../functions/aws/compute-bytes.ts';

/** HTTP requests per operation (retries included; a presigned URL computed locally is none). */
export type Requests = Record<string, number>;
interface ProcessCounts {
  dynamo: Requests;
  s3: Requests;
}

export interface Counted {
  local: AwsLocal;
  api: { dynamo: CallCounts; s3: CallCounts };
  /** The calls made while `work` ran, per process, and the body bytes each origin received. */
  measure(work: () => Promise<unknown>): Promise<Measured>;
  ingestCalls(reset?: boolean): Promise<ProcessCounts>;
  close(): Promise<void>;
}

export interface Measured {
  api: ProcessCounts;
  /** The events Lambda's (object-created events of edge uploads). */
  events: ProcessCounts;
  ingest: ProcessCounts;
  /** Commands the API process sent, presigns included (they never reach the network). */
  apiCalls: ProcessCounts;
  bytes: { api: number; ingest: number; s3: number };
  /** Body bytes counted inside the API handler and the ingest process (functions/aws/compute-bytes.ts). */
  compute: { api: ComputeBytes; ingest: ComputeBytes };
}

export async function startCounted(opts: { ingest?: boolean; ingestEnv?: Record<string, string> } = {}): Promise<Counted> {
  const ingest = opts.ingest ?? true;
  // Pull counts are written once a day here, not once a minute: a minute's one write (by whichever
  // pull comes first after it) would land in that request's figures at a random point of the file.
  // For the same reason the events process reads a project's storage quota once per file (the first
  // edge upload of the project), not every 10 s.
  const local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest, ingestEnv: { REGISTRY_CALL_COUNTS: 'on', ...opts.ingestEnv }, auditPullFlushSeconds: 86_400, eventsQuotaSeconds: 86_400 });
  const api = { dynamo: countCalls(local.deps.dynamo), s3: countCalls(local.deps.s3) };
  const events = { dynamo: countCalls(local.eventsDeps.dynamo), s3: countCalls(local.eventsDeps.s3) };
  /** The ingest process's calls and body bytes (/healthz/calls, REGISTRY_CALL_COUNTS=on). */
  const ingestState = async (reset = false): Promise<{ calls: ProcessCounts; bytes: ComputeBytes }> => {
    if (!local.ingest) return { calls: { dynamo: {}, s3: {} }, bytes: newComputeBytes() };
    const r = await fetch(`${local.ingest.url}/healthz/calls${reset ? '?reset' : ''}`);
    const got = (await r.json()) as Record<'dynamo' | 's3', { requests: Requests }> & { bytes: ComputeBytes };
    return { calls: { dynamo: got.dynamo.requests, s3: got.s3.requests }, bytes: got.bytes };
  };
  const ingestCalls = async (reset = false): Promise<ProcessCounts> => (await ingestState(reset)).calls;
  return {
    local,
    api,
    ingestCalls,
    async measure(work) {
      await settleEvents(local);
      for (const c of [api.dynamo, api.s3, events.dynamo, events.s3]) c.reset();
      resetComputeBytes(local.apiBytes);
      await ingestCalls(true);
      const before = { ...local.frontDoor.stats.bytes };
      await work();
      await settleEvents(local);
      const after = local.frontDoor.stats.bytes;
      const ingested = await ingestState();
      return {
        api: { dynamo: { ...api.dynamo.attempts }, s3: { ...api.s3.attempts } },
        events: { dynamo: { ...events.dynamo.attempts }, s3: { ...events.s3.attempts } },
        apiCalls: { dynamo: api.dynamo.snapshot(), s3: api.s3.snapshot() },
        ingest: ingested.calls,
        compute: { api: snapshotComputeBytes(local.apiBytes), ingest: ingested.bytes },
        bytes: { api: after.api - before.api, ingest: after.ingest - before.ingest, s3: after.s3 - before.s3 },
      };
    },
    close: () => local.close(),
  };
}

/** One counted start:aws for the whole test file: started before its tests, closed after them. */
export function countedPerFile(use: (reg: Counted) => void, opts: Parameters<typeof startCounted>[0] = {}): void {
  let reg: Counted | undefined;
  beforeAll(async () => {
    reg = await startCounted(opts);
    use(reg);
  }, 120_000);
  afterAll(async () => {
    await reg?.close();
  });
}

/**
 * Waits until the object-created events in flight have been handled, retries included (so that an
 * event's writes are not counted in the next request's figures), for at most 10 s. An object's event
 * is in flight before its PUT is answered.
 */
export async function settleEvents(local: AwsLocal): Promise<void> {
  const deadline = Date.now() + 10_000;
  await new Promise((r) => setTimeout(r, 25));
  while (local.events.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

export const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** POST an upload session; returns its absolute Location. */
export async function startUpload(base: string, repo: string): Promise<string> {
  const r = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await r.arrayBuffer();
  const loc = r.headers.get('location');
  if (r.status !== 202 || !loc) throw new Error(`POST upload: ${r.status}`);
  return new URL(loc, base).href;
}

export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** POST + one PUT with the whole body (containerd's way; the edge sends it to S3). */
export async function pushBlobPut(base: string, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const loc = await startUpload(base, repo);
  const r = await fetch(withDigest(loc, digest), { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  await r.arrayBuffer();
  if (r.status !== 201) throw new Error(`PUT blob: ${r.status}`);
  return digest;
}

/** A body sent with Transfer-Encoding: chunked (no Content-Length), as docker streams a layer. */
export function streamed(bytes: Uint8Array, chunk = 1024 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

/** POST + one streamed PATCH (to ingest) + an empty PUT ?digest= (docker's way). */
export async function pushBlobPatch(base: string, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const loc = await startUpload(base, repo);
  const p = await fetch(loc, { method: 'PATCH', body: streamed(bytes), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
  await p.arrayBuffer();
  if (p.status !== 202) throw new Error(`PATCH: ${p.status}`);
  const next = new URL(p.headers.get('location') ?? '', base).href;
  const r = await fetch(withDigest(next, digest), { method: 'PUT' });
  await r.arrayBuffer();
  if (r.status !== 201) throw new Error(`PUT digest: ${r.status}`);
  return digest;
}

export interface Image {
  manifest: Uint8Array;
  digest: string;
  blobs: Uint8Array[];
}

/** An OCI image manifest over the given config and layers (already pushed or not). */
export function imageManifest(config: Uint8Array, layers: Uint8Array[]): Image {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
    }),
  );
  return { manifest, digest: sha256(manifest), blobs: [config, ...layers] };
}

export async function putManifest(base: string, repo: string, ref: string, body: Uint8Array): Promise<Response> {
  const r = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`manifest PUT ${repo}:${ref}: ${r.status} ${text.slice(0, 400)}`);
  return r;
}
