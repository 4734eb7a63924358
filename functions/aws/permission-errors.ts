// A refusal by IAM (403 AccessDenied from S3 or DynamoDB) is a deployment fault, not a client's and
// not a passing one: it is answered as an internal error that says so, and logged naming the IAM
// action that was refused, so the operator sees which grant is missing. The SDK's errors do not say
// which command failed: nameCommandsInErrors stamps it on them.
import { stacksOf, type CountableClient } from './call-counter.ts';

/** The IAM action each S3 operation is authorized as (S3's authorization reference). */
const S3_ACTIONS: Readonly<Record<string, string>> = {
  // A missing key is a 404 only with s3:ListBucket on the bucket; without it S3 answers 403.
  HeadObject: 's3:GetObject (or s3:ListBucket, for a key that does not exist)',
  GetObject: 's3:GetObject (or s3:ListBucket, for a key that does not exist)',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  DeleteObject: 's3:DeleteObject',
  PutObjectTagging: 's3:PutObjectTagging',
};

/** DynamoDB transactions are authorized per item. */
const DYNAMODB_ACTIONS: Readonly<Record<string, string>> = {
  TransactWriteItems: 'dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem (per item of the transaction)',
  TransactGetItems: 'dynamodb:GetItem',
};

const DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'Forbidden', 'UnauthorizedOperation']);

type Stamped = { $command?: string };

/** Stamps `<service>:<operation>` on every error a client's calls throw (as `$command`). */
export function nameCommandsInErrors(client: CountableClient, service: 's3' | 'dynamodb'): void {
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (e) {
      if (typeof e === 'object' && e !== null && (e as Stamped).$command === undefined) {
        (e as Stamped).$command = `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
      }
      throw e;
    }
  };
  for (const c of stacksOf(client)) c.middlewareStack.add(middleware, { step: 'initialize', name: 'nameCommandsInErrors', priority: 'high' });
}

export interface PermissionDenied {
  /** The call refused, e.g. `s3:HeadObject`, when known. */
  command?: string;
  /** The IAM action(s) that would allow it. */
  action: string;
}

/** The refused call and its IAM action when `error` is IAM's refusal; undefined otherwise. */
export function permissionDenied(error: unknown): PermissionDenied | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } & Stamped;
  const denied = (typeof e.name === 'string' && DENIED_NAMES.has(e.name)) || e.$metadata?.httpStatusCode === 403;
  if (!denied) return undefined;
  const command = e.$command;
  if (command === undefined) return { action: 'unknown (the error does not name its call)' };
  const [service, operation = ''] = command.split(':');
  const action = service === 's3' ? (S3_ACTIONS[operation] ?? `s3:${operation}`) : (DYNAMODB_ACTIONS[operation] ?? `dynamodb:${operation}`);
  return { command, action };
}
