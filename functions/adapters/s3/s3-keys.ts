// Where things live in the bucket.
//
//   blobs/<alg>/<hex>          small verified blobs written whole by putBlob (content-addressed)
//   blobs/by-upload/<id>       a blob committed from upload session <id>: the multipart upload's target
//                              key from the start, so completing it copies no bytes. Until then it may
//                              hold the session's first segment (offset 0), tagged `registry-upload=
//                              pending`; the lifecycle expires objects there so tagged after 2 days
//   uploads/<id>/tail-<offset>-<nonce>
//                              bytes of session <id> from <offset> on that are not yet in a part
//                              (under 5 MiB together); the bucket lifecycle expires `uploads/` after
//                              2 days and aborts incomplete multipart uploads after 1 day
//
// `blobs/by-upload/` does not start with `uploads/`, so the expiry never touches committed blobs.
import { randomBytes } from 'node:crypto';

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkId(id: string): string {
  if (!SESSION_ID.test(id)) throw new Error(`upload id ${JSON.stringify(id)} cannot name an S3 key`);
  return id;
}

/** Where blobs committed from upload sessions live (the bucket lifecycle and IAM name it too). */
export const UPLOAD_BLOB_PREFIX = 'blobs/by-upload/';

/** Tag of an object at an upload's final key that is not (yet) a committed blob: expired by the lifecycle. */
export const PENDING_TAG = { key: 'registry-upload', value: 'pending' } as const;

export function uploadBlobKey(id: string): string {
  return `${UPLOAD_BLOB_PREFIX}${checkId(id)}`;
}

export function contentKey(digest: string): string {
  const [alg = '', hex = ''] = digest.split(':');
  if (!/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex)) throw new Error(`not a digest: ${JSON.stringify(digest)}`);
  return `blobs/${alg}/${hex}`;
}

/** A fresh name for a tail segment starting at `offset` (unique, so a stale writer never overwrites it). */
export function segmentKey(id: string, offset: number): string {
  return `uploads/${checkId(id)}/tail-${offset}-${randomBytes(6).toString('hex')}`;
}
