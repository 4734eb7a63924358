// Storage stacks in an environment without replicas (staging) and one with two (prod): table
// replicas and PITR, bucket policy (TLS only, OAC principal only), replication, lifecycle and the
// events notification.
import { lifecycleRules } from '../../infra/constructs/blob-bucket.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
// Synthesizing every environment takes ~10 s, most of it CDK's CloudFormation validation.
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

type Statement = { Effect: string; Principal?: unknown; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

function bucketPolicy(stack: string): Statement[] {
  const policies = Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
  expect(policies).toHaveLength(1);
  return (policies[0]!.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
}

function bucket(stack: string) {
  const buckets = Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === 'AWS::S3::Bucket');
  expect(buckets).toHaveLength(1);
  return buckets[0]!.Properties as Record<string, Json>;
}

const asText = (v: unknown) => JSON.stringify(v);

describe.each([
  ['staging', 'eu-west-1', [] as string[]],
  ['prod', 'us-east-1', ['eu-west-1', 'ap-southeast-2']],
])('%s storage', (env, primary, replicas) => {
  it('table: pk/sk strings, ttl, on-demand, PITR, a replica per replica region', () => {
    const t = s.template(`OciRegistry-${env}-Storage`);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    const table = t.findResources('AWS::DynamoDB::GlobalTable');
    const props = Object.values(table)[0]!.Properties as Record<string, Json>;
    expect(props.TableName).toBe(`oci-registry-${env}`);
    expect(props.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }]);
    expect(props.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }]);
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
    const regions = props.Replicas.map((r: { Region: string }) => r.Region).sort();
    expect(regions).toEqual([primary, ...replicas].sort());
    for (const replica of props.Replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(replica.DeletionProtectionEnabled ?? false).toBe(env === 'prod');
    }
    expect(Object.values(table)[0]!.DeletionPolicy).toBe(env === 'prod' ? 'Retain' : 'Delete');
  });

  const bucketStacks = [[`OciRegistry-${env}-Storage`, primary], ...replicas.map((r) => [`OciRegistry-${env}-Storage-${r}`, r])];

  it.each(bucketStacks)('bucket of %s: private, encrypted, versioned, named for its region', (stack, region) => {
    const b = bucket(stack!);
    expect(asText(b.BucketName)).toContain(`oci-registry-${env}-`);
    expect(asText(b.BucketName)).toContain(`-${region}`);
    expect(b.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(b.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(b.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  });

  const sourceArnOf = (st: Statement, operator: string) => {
    const arn = asText(st.Condition?.[operator]?.['AWS:SourceArn']);
    // The ARN of this environment's distribution, read from the edge stack's output.
    expect(arn).toContain('Fn::GetStackOutput');
    expect(arn).toContain(`OciRegistry-${env}-Edge`);
    expect(arn).toContain('us-east-1');
    return arn;
  };

  it.each(bucketStacks)('bucket policy of %s: TLS only, and only the distribution through OAC may read blobs/*', (stack) => {
    const statements = bucketPolicy(stack!);
    const denies = statements.filter((st) => st.Effect === 'Deny');
    expect(denies.some((d) => asText(d.Condition) === asText({ Bool: { 'aws:SecureTransport': 'false' } }) && d.Action === 's3:*')).toBe(true);
    expect(denies.some((d) => asText(d.Condition).includes('s3:TlsVersion'))).toBe(true);
    const reads = statements.filter((st) => st.Effect === 'Allow' && st.Action === 's3:GetObject');
    expect(reads).toHaveLength(1);
    const allow = reads[0]!;
    expect(allow.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(asText(allow.Resource)).toMatch(/\/blobs\/\*"/);
    sourceArnOf(allow, 'StringEquals');
  });

  it(`bucket policy of the primary: the distribution may PutObject under blobs/r/ only, and nobody else may`, () => {
    const statements = bucketPolicy(`OciRegistry-${env}-Storage`);
    const allows = statements.filter((st) => st.Effect === 'Allow');
    // Exactly two grants: the OAC's blob reads and its edge-upload writes.
    expect(allows.map((st) => st.Action).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    const put = allows.find((st) => st.Action === 's3:PutObject')!;
    expect(put.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(asText(put.Resource)).toMatch(/\/blobs\/r\/\*"\]\]\}$/);
    const allowedArn = sourceArnOf(put, 'StringEquals');
    expect(Object.keys(put.Condition!)).toEqual(['StringEquals']);

    const deny = statements.filter((st) => st.Effect === 'Deny' && st.Action === 's3:PutObject');
    expect(deny).toHaveLength(1);
    expect(deny[0]!.Principal).toBe('*');
    expect(asText(deny[0]!.Resource)).toBe(asText(put.Resource));
    // Denied unless the request comes from this very distribution (a signed IAM request has no SourceArn).
    expect(Object.keys(deny[0]!.Condition!)).toEqual(['StringNotEquals']);
    expect(sourceArnOf(deny[0]!, 'StringNotEquals')).toBe(allowedArn);
    // No other statement grants or denies writes under blobs/.
    for (const st of statements.filter((x) => x !== put && x !== deny[0])) {
      expect([st.Action].flat().filter((a) => a === 's3:PutObject')).toEqual([]);
    }
  });

  it.each(replicas.map((r) => `OciRegistry-${env}-Storage-${r}`))('bucket policy of %s: no edge writes (replication only)', (stack) => {
    const statements = bucketPolicy(stack);
    expect(statements.some((st) => [st.Action].flat().includes('s3:PutObject'))).toBe(false);
  });

  it.each(bucketStacks)('lifecycle of %s: incomplete multipart aborted after 1 day, deleted versions after 7; in the primary, uploads/ and pending upload blobs expire after 2', (stack, region) => {
    const rules = bucket(stack!).LifecycleConfiguration.Rules as Array<Record<string, Json>>;
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }));
    expect(rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 }, ExpiredObjectDeleteMarker: true, Status: 'Enabled' }));
    if (region !== primary) return;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 2, Status: 'Enabled' }));
    // An upload's first segment at its final key, tagged pending until committed: expires after 2 days.
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'blobs/by-upload/', TagFilters: [{ Key: 'registry-upload', Value: 'pending' }], ExpirationInDays: 2, Status: 'Enabled' }));
  });

  it('primary bucket notifies the events function of objects created under blobs/r/ (edge uploads) only; replica buckets notify nothing', () => {
    const n = bucket(`OciRegistry-${env}-Storage`).NotificationConfiguration.LambdaConfigurations as Array<Record<string, Json>>;
    expect(n.map((c) => c.Filter.S3Key.Rules)).toEqual([[{ Name: 'prefix', Value: 'blobs/r/' }]]);
    for (const r of replicas) expect(bucket(`OciRegistry-${env}-Storage-${r}`).NotificationConfiguration).toBeUndefined();
    for (const c of n) {
      expect(c.Event).toBe('s3:ObjectCreated:*');
      expect(asText(c.Function)).toContain(`:function:oci-registry-${env}-events`);
    }
    const e = s.template(`OciRegistry-${env}-Events`);
    e.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    e.hasResourceProperties('AWS::Lambda::Function', { FunctionName: `oci-registry-${env}-events` });
    // The bucket can only be created once the invoke permission exists.
    const deps = s.assembly.getStackByName(`OciRegistry-${env}-Storage`).dependencies.map((d) => d.id);
    expect(deps).toContain(`OciRegistry-${env}-Events`);
  });

  it.each(bucketStacks)('lifecycle of %s: no rule can expire a committed blob or manifest (current versions expire only under uploads/, or pending-tagged under blobs/by-upload/ in the primary)', (stack, region) => {
    const rules = bucket(stack!).LifecycleConfiguration.Rules as Array<Record<string, Json>>;
    const isPrimary = region === primary;
    // What can remove a current object: an Expiration (days or date) on a rule.
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined);
    expect(expiring.map((r) => r.Id).sort()).toEqual(isPrimary ? ['expire-pending-upload-blobs', 'expire-stale-uploads'] : []);
    for (const r of expiring) {
      if (r.Id === 'expire-stale-uploads') expect(r.Prefix).toBe('uploads/');
      else expect({ prefix: r.Prefix, tags: r.TagFilters }).toEqual({ prefix: 'blobs/by-upload/', tags: [{ Key: 'registry-upload', Value: 'pending' }] });
    }
    // Committed content lives under blobs/ and manifests/; uploads/ is never replicated, so the
    // uploads rule can match only the primary's own session segments.
    const replicated = (bucket(`OciRegistry-${env}-Storage`).ReplicationConfiguration?.Rules ?? []) as Array<Record<string, Json>>;
    for (const r of replicated) expect(['blobs/', 'manifests/']).toContain(r.Filter.Prefix);
    // Every other rule touches no current version: incomplete multipart uploads, noncurrent versions, lone delete markers.
    for (const r of rules.filter((x) => !expiring.includes(x))) {
      expect(Object.keys(r).filter((k) => !['Id', 'Status', 'AbortIncompleteMultipartUpload', 'NoncurrentVersionExpiration', 'ExpiredObjectDeleteMarker'].includes(k)), r.Id).toEqual([]);
    }
    expect(lifecycleRules(isPrimary ? 'primary' : 'replica').map((r) => r.id).sort()).toEqual(rules.map((r) => r.Id).sort());
  });

  it('replication: blobs/ and manifests/ to every replica bucket, delete markers too, with metrics', () => {
    const b = bucket(`OciRegistry-${env}-Storage`);
    if (replicas.length === 0) {
      expect(b.ReplicationConfiguration).toBeUndefined();
      return;
    }
    const rules = b.ReplicationConfiguration.Rules as Array<Record<string, Json>>;
    expect(rules).toHaveLength(replicas.length * 2);
    for (const region of replicas) {
      for (const prefix of ['blobs/', 'manifests/']) {
        const rule = rules.find((r) => r.Id === `${prefix.slice(0, -1)}-to-${region}`);
        expect(rule, `${prefix} to ${region}`).toBeDefined();
        expect(rule!.Filter).toEqual({ Prefix: prefix });
        expect(rule!.Status).toBe('Enabled');
        expect(rule!.DeleteMarkerReplication).toEqual({ Status: 'Enabled' });
        // ReplicationLatency (alarmed) is published only with replication metrics on.
        expect(rule!.Destination.Metrics).toMatchObject({ Status: 'Enabled' });
        expect(asText(rule!.Destination.Bucket)).toContain(`-${region}`);
      }
    }
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
    // The replica buckets exist before the primary bucket names them as destinations.
    const deps = s.assembly.getStackByName(`OciRegistry-${env}-Storage`).dependencies.map((d) => d.id);
    for (const region of replicas) expect(deps).toContain(`OciRegistry-${env}-Storage-${region}`);
  });
});
