// The web interface in the edge stack of every shipped environment (infra/constructs/web-ui.ts):
// its bucket (only the distribution reads it, through OAC), the behaviours of /ui/* and
// /index.html (GET/HEAD, no signed URLs, cached as the objects say, the interface's headers), the
// read-routing function sending `/` there, and the deployments of dist/web/ with each kind of
// file's Content-Type and Cache-Control, and what their (CDK-made) function's role may do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { edgeFunctionSource, type ReadRoutingConfig } from '../../functions/edge/source.ts';
import { readBuiltUi } from '../../functions/web/bundle.ts';
import { UI_CACHE_CONTROL, UI_OBJECT_GROUPS, UI_SECURITY_HEADERS, uiObjectGroup } from '../../functions/web/headers.ts';
import { ROOT, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const asText = (v: unknown) => JSON.stringify(v);
const resources = (env: string): Record<string, Json> => s.templateJson(`OciRegistry-${env}-Edge`).Resources;
const ofType = (env: string, type: string): [string, Json][] => Object.entries(resources(env)).filter(([, r]) => r.Type === type);

function distribution(env: string): Json {
  const d = ofType(env, 'AWS::CloudFront::Distribution');
  expect(d).toHaveLength(1);
  return d[0]![1].Properties.DistributionConfig;
}

function uiBucket(env: string): string {
  const buckets = ofType(env, 'AWS::S3::Bucket');
  expect(buckets).toHaveLength(1);
  return buckets[0]![0];
}

describe.each(['dev', 'staging', 'prod'])('%s: the web interface', (env) => {
  it('a bucket of its own, private and encrypted, TLS only, that only this distribution reads (GetObject, through OAC)', () => {
    const id = uiBucket(env);
    const bucket = resources(env)[id]!.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(asText(bucket.BucketEncryption)).toContain('AES256');
    const [policy, ...more] = ofType(env, 'AWS::S3::BucketPolicy');
    expect(more).toEqual([]);
    expect(policy![1].Properties.Bucket).toEqual({ Ref: id });
    const statements = policy![1].Properties.PolicyDocument.Statement as Json[];
    const deny = statements.filter((st) => st.Effect === 'Deny');
    expect(deny).toHaveLength(1);
    expect(deny[0].Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    const allow = statements.filter((st) => st.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0].Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(allow[0].Action).toBe('s3:GetObject');
    expect(asText(allow[0].Resource)).toContain(`"${id}","Arn"`);
    const distributionId = ofType(env, 'AWS::CloudFront::Distribution')[0]![0];
    expect(asText(allow[0].Condition.StringEquals['AWS:SourceArn'])).toContain(`{"Ref":"${distributionId}"}`);
  });

  it('its origin: that bucket through an OAC of its own that signs every request; read routing sends reads of `/` there', () => {
    const cfg = distribution(env);
    const o = cfg.Origins.find((x: Json) => x.Id === 'ui');
    expect(asText(o.DomainName)).toContain(`"${uiBucket(env)}","RegionalDomainName"`);
    expect(o.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    const oac = resources(env)[o.OriginAccessControlId['Fn::GetAtt'][0]]!.Properties.OriginAccessControlConfig;
    expect(oac).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    expect(oac.Description).toContain('web interface');
    // The read-routing function on the default behaviour, as deployed, names that origin.
    const fnId = cfg.DefaultCacheBehavior.FunctionAssociations[0].FunctionARN['Fn::GetAtt'][0];
    const code = resources(env)[fnId]!.Properties.FunctionCode as string;
    const config = JSON.parse(/^var CONFIG = (\{[^\n]*\});$/m.exec(code)![1]!) as ReadRoutingConfig;
    expect(config.ui).toBe('ui');
    expect(code).toBe(edgeFunctionSource('read-routing', config));
  });

  it('/ui/* and /index.html: GET/HEAD from that origin, no signed URLs, no function, cached as the objects say (path only in the key), compressed, HTTPS', () => {
    const cfg = distribution(env);
    for (const path of ['/ui/*', '/index.html']) {
      const b = cfg.CacheBehaviors.find((x: Json) => x.PathPattern === path);
      expect(b, path).toBeDefined();
      expect(b.TargetOriginId).toBe('ui');
      expect(b.AllowedMethods).toEqual(['GET', 'HEAD']);
      expect(b.CachedMethods).toEqual(['GET', 'HEAD']);
      expect(b.TrustedKeyGroups).toBeUndefined();
      expect(b.FunctionAssociations).toBeUndefined();
      expect(b.OriginRequestPolicyId).toBeUndefined();
      expect(b.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(b.Compress).toBe(true);
      const policy = resources(env)[b.CachePolicyId.Ref]!.Properties.CachePolicyConfig;
      // No minimum: the page's no-cache is honoured; the hashed files' year too (maximum 365 days).
      expect(policy).toMatchObject({ MinTTL: 0, MaxTTL: 365 * 86400 });
      const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
      expect(key).toMatchObject({ HeadersConfig: { HeaderBehavior: 'none' }, QueryStringsConfig: { QueryStringBehavior: 'none' }, CookiesConfig: { CookieBehavior: 'none' }, EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true });
      expect(b.ResponseHeadersPolicyId).toEqual(cfg.DefaultCacheBehavior.ResponseHeadersPolicyId);
    }
  });

  it('the headers policy (on those behaviours and on the default one, where `/` is): the CSP, nosniff, no referrer and same-origin opener `npm start` sends', () => {
    const cfg = distribution(env);
    const policy = resources(env)[cfg.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref]!.Properties.ResponseHeadersPolicyConfig;
    expect(policy.SecurityHeadersConfig).toEqual({
      ContentSecurityPolicy: { ContentSecurityPolicy: UI_SECURITY_HEADERS['content-security-policy'], Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: UI_SECURITY_HEADERS['referrer-policy'], Override: true },
    });
    expect(policy.CustomHeadersConfig.Items).toEqual([{ Header: 'Cross-Origin-Opener-Policy', Value: UI_SECURITY_HEADERS['cross-origin-opener-policy'], Override: true }]);
    expect(UI_SECURITY_HEADERS['x-content-type-options']).toBe('nosniff');
  });

  it('dist/web/ is deployed into that bucket, one deployment per kind of file with its Content-Type and Cache-Control; the page after the others; hashed files never pruned', () => {
    const t = resources(env);
    const deployments = ofType(env, 'Custom::CDKBucketDeployment');
    expect(deployments).toHaveLength(UI_OBJECT_GROUPS.length);
    const byGlob = new Map(deployments.map(([id, r]) => [r.Properties.Include[0] as string, { id, r }]));
    for (const g of UI_OBJECT_GROUPS) {
      const { r } = byGlob.get(g.glob)!;
      const p = r.Properties;
      expect(p).toMatchObject({ Exclude: ['*'], Include: [g.glob], Prune: g.prune, DestinationBucketName: { Ref: uiBucket(env) } });
      expect(p.SystemMetadata).toEqual({ 'content-type': g.contentType, 'cache-control': g.cacheControl });
      // The asset is exactly what `npm run build` wrote to dist/web/.
      expect(p.SourceObjectKeys).toHaveLength(1);
      const asset = join(s.outdir, `asset.${(p.SourceObjectKeys[0] as string).replace(/\.zip$/, '')}`);
      expect(readdirSync(asset, { recursive: true }).map(String).sort()).toEqual(readdirSync(join(ROOT, 'dist', 'web'), { recursive: true }).map(String).sort());
    }
    const page = byGlob.get('index.html')!.r;
    for (const g of UI_OBJECT_GROUPS.filter((x) => x.glob !== 'index.html')) expect(page.DependsOn).toContain(byGlob.get(g.glob)!.id);
    // Retained environments keep the files when the stack goes.
    const retain = env === 'prod';
    for (const [, r] of deployments) expect(r.Properties.RetainOnDelete).toBe(retain);
    expect(t[uiBucket(env)]!.DeletionPolicy).toBe(retain ? 'Retain' : 'Delete');
  });

  it('the deployment function\'s role: no managed policy; its own log group, the asset, and the interface\'s bucket, nothing of the registry\'s', () => {
    const t = resources(env);
    const fns = ofType(env, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('CustomCDKBucketDeployment'));
    expect(fns).toHaveLength(1);
    const roleId = fns[0]![1].Properties.Role['Fn::GetAtt'][0] as string;
    expect(t[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = ofType(env, 'AWS::IAM::Policy').filter(([, r]) => asText(r.Properties.Roles).includes(`"${roleId}"`)).flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[]);
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      const where = asText(st.Resource);
      const actions = [st.Action].flat() as string[];
      if (actions.every((a) => a.startsWith('logs:'))) expect(where).toMatch(/DeployLogs/);
      else {
        expect(actions.every((a) => a.startsWith('s3:')), asText(actions)).toBe(true);
        expect(where.includes(uiBucket(env)) || /cdk-hnb659fds-assets-/.test(where), where).toBe(true);
      }
      expect(where).not.toMatch(/oci-registry-|dynamodb|table/);
    }
  });
});

describe('the files of dist/web/', () => {
  it('each is of exactly one kind, whose Content-Type and Cache-Control are what `npm start` sends for it', async () => {
    const files = (await readBuiltUi(join(ROOT, 'dist', 'web')))!;
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const key = f.path === '/' ? 'index.html' : f.path.slice(1);
      const g = uiObjectGroup(key);
      expect(g, key).toBeDefined();
      expect(UI_OBJECT_GROUPS.filter((x) => uiObjectGroup(key) === x)).toHaveLength(1);
      expect(g!.contentType, key).toBe(f.contentType);
      expect(g!.cacheControl, key).toBe(f.immutable ? UI_CACHE_CONTROL.immutable : UI_CACHE_CONTROL.revalidate);
      expect(g!.prune, key).toBe(!f.immutable);
    }
    expect(uiObjectGroup('ui/x.png')).toBeUndefined();
  });
});
