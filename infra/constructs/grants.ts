// Least-privilege statements: each component gets exactly the table actions and the bucket key
// prefixes it uses, named here once so the tests can check them.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { AUDIT_PK_PREFIX, GC_PREFIX, KEY_PREFIXES, LOGIN_PK_PREFIX, UPLOAD_BLOB_PREFIX } from '../names.ts';

export const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
export const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'];
// Transactions (TransactWriteItems/TransactGetItems) are authorized per item action above;
// IAM has no separate transaction actions. No code path sends BatchWriteItem.

export const OBJECT_READ = ['s3:GetObject'];
export const OBJECT_WRITE = ['s3:PutObject', 's3:DeleteObject'];
/** PutObject covers Create/UploadPart/Complete; aborting is the rest of a multipart upload (parts are never listed). */
export const MULTIPART = ['s3:AbortMultipartUpload'];
/**
 * On the bucket itself: S3 answers a HeadObject or GetObject of a missing key with 404 only to a
 * caller that may list the bucket, and with 403 to any other. The code reads "missing" from the 404
 * (a blob HEAD before a push, a manifest PUT naming an unknown blob, a late event), so every process
 * that may look up a key that is not there needs it.
 */
export const MISSING_AS_404 = ['s3:ListBucket'];

export type DataAccess =
  /** api Lambda in the primary region: pushes, pulls, deletes. */
  | 'read-write'
  /** ingest task: upload requests only (streamed PATCH/PUT/POST bodies), never a manifest. */
  | 'ingest'
  /** api Lambda of a replica region: only GET/HEAD ever reach it (read routing). */
  | 'read-only'
  /** events Lambda: records new objects. */
  | 'events'
  /** GC Lambda: reads the whole table and the blob listing, deletes what nothing needs, keeps its runs under gc/. */
  | 'gc';

// Which calls each process makes is checked against these statements by test/infra/iam-vs-calls.test.ts.
export function dataStatements(access: DataAccess, tableArn: string, bucketArn: string): iam.PolicyStatement[] {
  const objects = (...prefixes: string[]) => prefixes.map((p) => `${bucketArn}/${p}*`);
  const { blobs, uploads, manifests } = KEY_PREFIXES;
  const listBucket = new iam.PolicyStatement({ sid: 'MissingKeysAs404', actions: MISSING_AS_404, resources: [bucketArn] });
  switch (access) {
    case 'read-write':
      return [
        new iam.PolicyStatement({ sid: 'TableReadWrite', actions: [...TABLE_READ, ...TABLE_WRITE], resources: [tableArn] }),
        new iam.PolicyStatement({ sid: 'ObjectsReadWrite', actions: [...OBJECT_READ, ...OBJECT_WRITE], resources: objects(blobs, uploads, manifests) }),
        listBucket,
        // Multipart uploads complete into the blob's final key, blobs/by-upload/<id> (docs/s3-blob-store.md).
        new iam.PolicyStatement({ sid: 'UploadsMultipart', actions: MULTIPART, resources: objects(UPLOAD_BLOB_PREFIX) }),
        // A first upload segment is written at the blob's final key tagged pending; the tag is cleared at commit.
        new iam.PolicyStatement({ sid: 'UploadBlobsTagging', actions: ['s3:PutObjectTagging'], resources: objects(UPLOAD_BLOB_PREFIX) }),
      ];
    case 'ingest':
      // Upload sessions (leased, updated, ended), blob records and links; objects of uploads and blobs.
      return [
        new iam.PolicyStatement({ sid: 'TableUploads', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [tableArn] }),
        new iam.PolicyStatement({ sid: 'ObjectsReadWrite', actions: [...OBJECT_READ, ...OBJECT_WRITE], resources: objects(blobs, uploads) }),
        new iam.PolicyStatement({ sid: 'UploadsMultipart', actions: MULTIPART, resources: objects(UPLOAD_BLOB_PREFIX) }),
        new iam.PolicyStatement({ sid: 'UploadBlobsTagging', actions: ['s3:PutObjectTagging'], resources: objects(UPLOAD_BLOB_PREFIX) }),
      ];
    case 'read-only':
      return [
        // BatchGetItem is the manifest PUT's (its references): a write, never sent to a replica.
        new iam.PolicyStatement({ sid: 'TableRead', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [tableArn] }),
        // Logins reach the nearest region (GET /token): a failed one is counted there, and every one
        // is an audit entry, the two kinds of item this role may write (the global table carries them
        // to every region; audit entries have unique keys, so two regions' writes never meet).
        new iam.PolicyStatement({
          sid: 'FailedLoginCountsAndAudit', actions: ['dynamodb:UpdateItem'], resources: [tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LOGIN_PK_PREFIX}*`, `${AUDIT_PK_PREFIX}*`] } },
        }),
        new iam.PolicyStatement({ sid: 'ObjectsRead', actions: OBJECT_READ, resources: objects(blobs, manifests) }),
        listBucket,
      ];
    case 'events':
      // recordUpload: HeadObject (authorized as s3:GetObject) of the new copy, and DeleteObject of a
      // copy that duplicates a digest already stored (the first verified copy wins); the end of the
      // session (a Delete), the record and the link in one transaction (Put items, and an Update of a
      // record this process has seen, which also takes a GC mark away). An object that names no
      // session is recorded without it, after a GetItem of the catalog entry of a repository this
      // process has not seen. The repository's project is read (GetItem) for its storage quota, and
      // the link's count in the project is part of the same transaction (a Put and an Update of the
      // Q# items, docs/quotas.md). A late event may find its object deleted: 404 needs ListBucket.
      return [
        new iam.PolicyStatement({ sid: 'TableRecord', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [tableArn] }),
        new iam.PolicyStatement({ sid: 'BlobsReadDelete', actions: [...OBJECT_READ, 's3:DeleteObject'], resources: objects(blobs) }),
        listBucket,
      ];
    case 'gc':
      // A repository's partition by Query, blob records by Scan, a manifest's subject by GetItem;
      // marks set and taken away by conditional UpdateItem, deletes by conditional DeleteItem (a
      // referrer's in a transaction with a ConditionCheck on its subject; a link's with its project's
      // count: a Delete or an Update of the Q# items, after GetItems of both). The listing of blobs/ and
      // manifests/ (ListBucket, which also makes a missing key 404), a HeadObject (s3:GetObject) and
      // DeleteObject per object freed; the run's own state and report under gc/.
      return [
        new iam.PolicyStatement({ sid: 'TableCollect', actions: ['dynamodb:Query', 'dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'], resources: [tableArn] }),
        new iam.PolicyStatement({ sid: 'ObjectsCollect', actions: [...OBJECT_READ, 's3:DeleteObject'], resources: objects(blobs, manifests) }),
        new iam.PolicyStatement({ sid: 'GcRuns', actions: [...OBJECT_READ, 's3:PutObject'], resources: objects(GC_PREFIX) }),
        new iam.PolicyStatement({ sid: 'ListAndMissingKeysAs404', actions: MISSING_AS_404, resources: [bucketArn] }),
      ];
  }
}

/**
 * cdk-nag flags every `prefix/*` object resource (IAM5). Object keys under a prefix are content
 * addresses or session ids that no policy could list, so a prefix wildcard is the narrowest
 * grant there is; acknowledge exactly those resources and nothing else.
 */
export function acknowledgePrefixWildcards(scope: IConstruct, policyResources: string[]): void {
  for (const resource of policyResources) {
    // cdk-nag names the finding after the resource with references flattened to <Ref>.
    const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
    Validations.of(scope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat}]`,
      reason: 'Objects under a key prefix are named by digest or upload session at run time: the prefix wildcard is the narrowest possible grant.',
    });
  }
}
