// IAM as AWS evaluates it, for the calls the registry's processes make: the identity policies of a
// role as synthesized (CloudFormation intrinsics resolved for one account and region), the action
// and resource each recorded SDK call needs (S3 and DynamoDB authorization reference), and matching
// with IAM's wildcards. One condition is modelled, `ForAllValues:StringLike` on
// `dynamodb:LeadingKeys` (the partition keys a call names); no Deny statement, other condition or
// resource policy is: the test using this checks that there are none in the statements it evaluates.
import type { CallRecord } from '../../functions/aws/call-recorder.ts';
import type { Json } from './synth.ts';

export interface Statement {
  sid?: string;
  effect: string;
  actions: string[];
  resources: string[];
  condition?: unknown;
}

export interface Place {
  partition: string;
  region: string;
  account: string;
}

/** A template value with Fn::Join and the pseudo parameters resolved; anything else stays an unmatched token. */
export function resolve(value: unknown, at: Place): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v?.['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map((p) => resolve(p, at)).join(v['Fn::Join'][0]);
  if (v?.Ref === 'AWS::Partition') return at.partition;
  if (v?.Ref === 'AWS::Region') return at.region;
  if (v?.Ref === 'AWS::AccountId') return at.account;
  return `<token ${JSON.stringify(value)}>`;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every identity-policy statement of the role `roleId` in `template` (attached policies and inline ones). */
export function roleStatements(template: Json, roleId: string, at: Place): Statement[] {
  const out: Statement[] = [];
  const add = (doc: Json) => {
    for (const s of list<Json>(doc.Statement)) {
      out.push({ sid: s.Sid, effect: s.Effect, actions: list<string>(s.Action), resources: list<unknown>(s.Resource).map((r) => resolve(r, at)), condition: s.Condition });
    }
  };
  for (const r of Object.values(template.Resources as Record<string, Json>)) {
    if (r.Type === 'AWS::IAM::Policy' && list<Json>(r.Properties.Roles).some((x) => x.Ref === roleId)) add(r.Properties.PolicyDocument);
  }
  for (const p of list<Json>(template.Resources[roleId]?.Properties?.Policies)) add(p.PolicyDocument);
  return out;
}

/** IAM's wildcards: `*` any run of characters, `?` one. */
export function wildcard(pattern: string, value: string, caseless = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, caseless ? 'is' : 's').test(value);
}

/** The patterns of the one condition this evaluator models, or undefined for a statement without condition. */
export function leadingKeysCondition(condition: unknown): string[] | undefined {
  if (condition === undefined) return undefined;
  const c = condition as Record<string, Record<string, unknown>>;
  const keys = Object.keys(c);
  const inner = c['ForAllValues:StringLike'];
  if (keys.length !== 1 || !inner || Object.keys(inner).length !== 1 || inner['dynamodb:LeadingKeys'] === undefined) {
    throw new Error(`a condition this evaluator does not model: ${JSON.stringify(condition)}`);
  }
  return list<string>(inner['dynamodb:LeadingKeys'] as string | string[]);
}

/** ForAllValues over no values is true in IAM; a call whose keys are unknown (Query) is taken as not matching. */
function conditionHolds(s: Statement, leadingKeys: readonly string[] | undefined): boolean {
  const patterns = leadingKeysCondition(s.condition);
  if (patterns === undefined) return true;
  return leadingKeys !== undefined && leadingKeys.length > 0 && leadingKeys.every((k) => patterns.some((p) => wildcard(p, k)));
}

export function allows(statements: readonly Statement[], action: string, resource: string, leadingKeys?: readonly string[]): Statement | undefined {
  return statements.find((s) => s.effect === 'Allow' && s.actions.some((a) => wildcard(a, action, true)) && s.resources.some((r) => wildcard(r, resource)) && conditionHolds(s, leadingKeys));
}

export interface Need {
  action: string;
  resource: string;
  why: string;
  /** DynamoDB: the partition keys of the items the call names (undefined: not known, e.g. a Query). */
  leadingKeys?: string[];
}

/** What one recorded call needs in IAM, with the names it used mapped to the deployment's. */
export function needsOf(call: CallRecord, names: { table: (local: string) => string; bucket: (local: string) => string }, at: Place): Need[] {
  const object = (bucket: string, key: string) => `arn:${at.partition}:s3:::${names.bucket(bucket)}/${key}`;
  const need: Need[] = [];
  const s3 = (action: string, why = call.operation) => need.push({ action, resource: object(call.bucket!, call.key!), why });
  switch (call.operation) {
    case 'GetObject':
    case 'HeadObject':
      s3('s3:GetObject');
      // S3 answers 404 for a missing key only to a caller that may list the bucket; else 403.
      if (call.status === 404) need.push({ action: 's3:ListBucket', resource: `arn:${at.partition}:s3:::${names.bucket(call.bucket!)}`, why: `${call.operation} of a missing key (404, not 403)` });
      break;
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      s3('s3:PutObject');
      break;
    case 'CopyObject':
    case 'UploadPartCopy': {
      s3('s3:PutObject');
      const [bucket, ...key] = call.copySource!.replace(/^\//, '').split('/');
      need.push({ action: 's3:GetObject', resource: object(bucket!, key.join('/').split('?')[0]!), why: `${call.operation} source` });
      break;
    }
    case 'AbortMultipartUpload':
      s3('s3:AbortMultipartUpload');
      break;
    case 'ListParts':
      s3('s3:ListMultipartUploadParts');
      break;
    case 'DeleteObject':
      s3('s3:DeleteObject');
      break;
    case 'PutObjectTagging':
      s3('s3:PutObjectTagging');
      break;
    case 'GetObjectTagging':
      s3('s3:GetObjectTagging');
      break;
    case 'ListObjectsV2':
      need.push({ action: 's3:ListBucket', resource: `arn:${at.partition}:s3:::${names.bucket(call.bucket!)}`, why: call.operation });
      break;
    default:
      if (!call.tables) throw new Error(`no IAM mapping for ${call.operation}`);
      for (const t of call.tables) {
        const table = `arn:${at.partition}:dynamodb:${at.region}:${at.account}:table/${names.table(t.table)}${t.index ? `/index/${t.index}` : ''}`;
        for (const a of t.actions) need.push({ action: `dynamodb:${a}`, resource: table, why: call.operation, ...(t.leadingKeys ? { leadingKeys: t.leadingKeys } : {}) });
      }
  }
  return need;
}
