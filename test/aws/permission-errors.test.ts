// IAM refusals told apart from every other AWS failure: which call was refused and which IAM action
// would allow it, so a missing grant is named in the log instead of a bare 500.
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../functions/aws/errors.ts';
import { permissionDenied } from '../../functions/aws/permission-errors.ts';

const sdkError = (name: string, status: number, command?: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...(command ? { $command: command } : {}) });

describe('permissionDenied', () => {
  it.each([
    ['AccessDenied', 403, 's3:PutObject', 's3:PutObject'],
    ['Forbidden', 403, 's3:HeadObject', 's3:GetObject (or s3:ListBucket, for a key that does not exist)'],
    ['AccessDeniedException', 400, 'dynamodb:GetItem', 'dynamodb:GetItem'],
    ['AccessDeniedException', 400, 'dynamodb:TransactWriteItems', 'dynamodb:PutItem, UpdateItem, DeleteItem or ConditionCheckItem (per item of the transaction)'],
    ['AccessDenied', 403, 's3:UploadPart', 's3:PutObject'],
  ])('%s (%i) on %s needs %s', (name, status, command, action) => {
    expect(permissionDenied(sdkError(name, status, command))).toEqual({ command, action });
  });

  it('an unnamed call still counts as refused', () => {
    expect(permissionDenied(sdkError('AccessDenied', 403))?.action).toMatch(/^unknown/);
  });

  it.each([
    ['NoSuchKey', 404],
    ['ThrottlingException', 400],
    ['ConditionalCheckFailedException', 400],
    ['SlowDown', 503],
  ])('%s is not a refusal', (name, status) => {
    expect(permissionDenied(sdkError(name, status, 's3:GetObject'))).toBeUndefined();
  });

  it('classifies a refusal as a 500 that says so, never as retryable', () => {
    const e = classifyAwsError(sdkError('AccessDenied', 403, 's3:DeleteObject'));
    expect(e?.status).toBe(500);
    expect(e?.toJSON()).toEqual({ errors: [{ code: 'UNKNOWN', message: 'storage access denied', detail: { reason: expect.any(String), action: 's3:DeleteObject' } }] });
    expect(e?.headers['retry-after']).toBeUndefined();
  });
});
