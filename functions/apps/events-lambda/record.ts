// S3 ObjectCreated events for blobs the CloudFront edge PUT straight into the bucket
// (`blobs/r/<repo>/<alg>/<hex>`, digest verified by S3 on the PUT): each is recorded as a blob and
// linked into the repository named in its key, through the same recordBlob as every other upload.
// Idempotent: S3 delivers events at least once and possibly late, and the manifest PUT may have
// recorded the blob already (functions/core/handlers/manifests.ts); recording again changes nothing,
// and an object some request recorded first (its upload session ended) is not linked again.
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { recordSession } from '../../core/blob-records.ts';
import type { RegistryDeps } from '../../core/context.ts';
import { parseEdgeUploadKey } from '../../adapters/s3/edge-upload-keys.ts';
import { QuotaExceededError } from '../../core/quota-ports.ts';

export type EventDeps = Pick<RegistryDeps, 'metadata' | 'blobs' | 'now' | 'quotas'>;

export type Outcome =
  | { key: string; result: 'recorded'; repo: string; digest: string; location: string; duplicate: boolean }
  | { key: string; result: 'ignored'; reason: string }
  | { key: string; result: 'failed'; error: unknown };

/** Object keys in S3 event notifications are URL-encoded, with spaces as '+'. */
export function decodeEventKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

async function recordOne(deps: EventDeps, record: S3EventRecord): Promise<Outcome> {
  const rawKey = record.s3?.object?.key ?? '';
  const key = decodeEventKey(rawKey);
  if (key === undefined) return { key: rawKey, result: 'ignored', reason: 'malformed key encoding' };
  if (typeof record.eventName !== 'string' || !record.eventName.startsWith('ObjectCreated:')) return { key, result: 'ignored', reason: `event ${String(record.eventName)}` };
  const upload = parseEdgeUploadKey(key);
  if (!upload) return { key, result: 'ignored', reason: 'not an edge upload key' };
  const size = record.s3.object.size;
  if (!Number.isSafeInteger(size) || size < 0) return { key, result: 'ignored', reason: 'no object size' };
  try {
    // The object names the session that wrote it: whoever ends that session records the upload
    // (recordSession). A request that needed the blob first (HEAD, GET, mount, DELETE, manifest
    // PUT) ended it already, or an earlier delivery of this event did: nothing to do.
    const found = deps.blobs.findRepoUpload ? await deps.blobs.findRepoUpload(upload.repo, upload.digest) : { uploadId: undefined };
    // Gone since the event was sent (a GC run deleted an edge copy nobody recorded): nothing to record.
    if (found === undefined) return { key, result: 'ignored', reason: 'object no longer exists' };
    const stored = await recordSession(deps, upload.repo, { digest: upload.digest, size, location: key, createdAt: deps.now() }, found.uploadId);
    if (!stored) return { key, result: 'ignored', reason: 'recorded already' };
    return { key, result: 'recorded', repo: upload.repo, digest: upload.digest, location: stored.location, duplicate: stored.location !== key };
  } catch (error) {
    // Over its project's storage quota (core/quota.ts): not linked, and delivering it again changes
    // nothing. The manifest PUT that needs it is refused (403 DENIED); GC collects the object.
    if (error instanceof QuotaExceededError) return { key, result: 'ignored', reason: `over the storage quota of project ${error.project}` };
    return { key, result: 'failed', error };
  }
}

/**
 * Records every edge upload in the event; other keys and other event types are ignored. Every record
 * is attempted; the outcomes say what happened to each (a failure is reported, not thrown: the
 * handler throws after the batch so that S3/Lambda deliver the event again).
 */
export async function recordEdgeUploads(deps: EventDeps, event: S3Event): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const record of event.Records ?? []) outcomes.push(await recordOne(deps, record));
  return outcomes;
}
