// The IAM evaluator the IAM-versus-calls test relies on: its one modelled condition.
import { describe, expect, it } from 'vitest';
import { allows, type Statement } from './iam-policy.ts';

const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/oci-registry-prod';
const onlyLogins: Statement = { effect: 'Allow', actions: ['dynamodb:UpdateItem'], resources: [TABLE], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LOGIN#*'] } } };

describe('IAM evaluator: ForAllValues:StringLike on dynamodb:LeadingKeys', () => {
  it('allows a call whose every partition key matches, and nothing else', () => {
    expect(allows([onlyLogins], 'dynamodb:UpdateItem', TABLE, ['LOGIN#u:alice'])).toBe(onlyLogins);
    expect(allows([onlyLogins], 'dynamodb:UpdateItem', TABLE, ['LOGIN#u:alice', 'LOGIN#a:192.0.2.1'])).toBe(onlyLogins);
    expect(allows([onlyLogins], 'dynamodb:UpdateItem', TABLE, ['BLOB#sha256:x'])).toBeUndefined();
    expect(allows([onlyLogins], 'dynamodb:UpdateItem', TABLE, ['LOGIN#u:alice', 'R#repo'])).toBeUndefined();
    // Keys not known (a Query): not taken as matching.
    expect(allows([onlyLogins], 'dynamodb:UpdateItem', TABLE)).toBeUndefined();
    expect(allows([onlyLogins], 'dynamodb:PutItem', TABLE, ['LOGIN#u:alice'])).toBeUndefined();
  });

  it('refuses to evaluate a condition it does not model', () => {
    const other: Statement = { ...onlyLogins, condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } };
    expect(() => allows([other], 'dynamodb:UpdateItem', TABLE, ['LOGIN#u:a'])).toThrow(/does not model/);
  });
});
