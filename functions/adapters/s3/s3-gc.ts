// What a GC run needs of the bucket (GcBlobStore, functions/core/ports.ts): a listing of the blob and
// manifest-body prefixes, and a delete that spares an object written since the cutoff. In a versioned
// bucket the delete leaves a delete marker, which replication copies to every replica bucket, and the
// lifecycle expires the old version a week later (infra/constructs/blob-bucket.ts).
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StoredObject } from '../../core/gc-ports.ts';
import type { Bucket } from './multipart.ts';
import { isMissing } from './s3-errors.ts';
import { UPLOAD_BLOB_PREFIX } from './s3-keys.ts';

/** What GC lists: committed blobs (all of blobs/, edge uploads and by-upload keys included) and large manifest bodies. */
export const STORED_PREFIXES = ['blobs/', 'manifests/'] as const;

/**
 * Keys the registry writes under those prefixes (s3-keys.ts, edge-upload-keys.ts, the DynamoDB
 * adapter's manifest body keys): GC considers nothing else.
 */
const REGISTRY_KEY = /^(blobs\/(by-upload\/[A-Za-z0-9_-]+|[a-z0-9]+\/[a-f0-9]+|r\/.+\/[a-z0-9]+\/[a-f0-9]+)|manifests\/.+\/[a-z0-9]+:[a-f0-9]+(\.fields\.json)?)$/;

interface Cursor {
  prefix: number;
  token?: string;
}

/** One ListObjectsV2 page (S3's own page size, 1000 keys: the listing is the cost, not the page). */
export async function listStored(b: Bucket, cursor?: string): Promise<{ items: StoredObject[]; cursor?: string }> {
  const at: Cursor = cursor === undefined ? { prefix: 0 } : (JSON.parse(cursor) as Cursor);
  const out = await b.client.send(new ListObjectsV2Command({
    Bucket: b.name, Prefix: STORED_PREFIXES[at.prefix], MaxKeys: 1000,
    ...(at.token === undefined ? {} : { ContinuationToken: at.token }),
  }));
  const items = (out.Contents ?? []).filter((o) => REGISTRY_KEY.test(o.Key ?? '')).map((o): StoredObject => ({ location: o.Key ?? '', size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? Date.now() }));
  let next: Cursor | undefined;
  if (out.IsTruncated && out.NextContinuationToken) next = { prefix: at.prefix, token: out.NextContinuationToken };
  else if (at.prefix + 1 < STORED_PREFIXES.length) next = { prefix: at.prefix + 1 };
  return next === undefined ? { items } : { items, cursor: JSON.stringify(next) };
}

/** One HeadObject, then one DeleteObject when the object was last written no later than `notAfter`. */
export async function deleteStale(b: Bucket, key: string, notAfter: number): Promise<number> {
  if (!REGISTRY_KEY.test(key)) return 0;
  let size: number;
  try {
    const head = await b.client.send(new HeadObjectCommand({ Bucket: b.name, Key: key }));
    if ((head.LastModified?.getTime() ?? Infinity) > notAfter) return 0;
    size = head.ContentLength ?? 0;
  } catch (e) {
    if (isMissing(e)) return 0;
    throw e;
  }
  await b.client.send(new DeleteObjectCommand({ Bucket: b.name, Key: key }));
  return size;
}

/** The session whose first segment may sit at a by-upload key (uncommitted while the session lives). */
export function uploadIdOf(key: string): string | undefined {
  return key.startsWith(UPLOAD_BLOB_PREFIX) ? key.slice(UPLOAD_BLOB_PREFIX.length) : undefined;
}
