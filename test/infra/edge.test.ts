// The edge stack of every shipped environment: behaviours, origins and origin groups, the key
// group, the KeyValueStore and the upload functions (the deployed code, its CONFIG naming the
// distribution's real origin ids), HTTP/2+3, price class, certificate and DNS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { EDGE_FUNCTION_MAX_BYTES, edgeFunctionSource, matchesPathPattern, UNAVAILABLE_PAGE_PATH, type EdgeConfig, type ReadRoutingConfig } from '../../functions/edge/source.ts';
import { ORIGIN_TIMEOUTS } from '../../infra/stacks/edge-stack.ts';
import { ROOT, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
const ALL_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'];

let s: Synthesized;
// Synthesizing every environment takes ~10 s, most of it CDK's CloudFormation validation.
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const asText = (v: unknown) => JSON.stringify(v);

function distribution(env: string): Json {
  const t = s.templateJson(`OciRegistry-${env}-Edge`);
  const d = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudFront::Distribution');
  expect(d).toHaveLength(1);
  return d[0]!.Properties!.DistributionConfig;
}

function origin(cfg: Json, id: string): Json {
  const o = cfg.Origins.find((x: Json) => x.Id === id);
  expect(o, `origin ${id}`).toBeDefined();
  return o;
}

function edgeFunction(env: string, logicalId: string): { name: string; config: Json; code: string } {
  const r = s.templateJson(`OciRegistry-${env}-Edge`).Resources[logicalId];
  expect(r?.Type).toBe('AWS::CloudFront::Function');
  const p = r!.Properties as Json;
  expect(p.AutoPublish).toBe(true);
  return { name: p.Name, config: p.FunctionConfig, code: p.FunctionCode };
}

/** The read-routing function on the default behaviour: its name, association and deployed settings. */
function readRouting(env: string): { name: string; config: ReadRoutingConfig; code: string; arn: unknown } {
  const cfg = distribution(env);
  const assoc = cfg.DefaultCacheBehavior.FunctionAssociations;
  expect(assoc).toHaveLength(1);
  expect(assoc[0].EventType).toBe('viewer-request');
  const fn = edgeFunction(env, assoc[0].FunctionARN['Fn::GetAtt'][0]);
  const line = fn.code.match(/^var CONFIG = (\{[^\n]*\});$/m);
  expect(line).not.toBeNull();
  return { name: fn.name, config: JSON.parse(line![1]!) as ReadRoutingConfig, code: fn.code, arn: assoc[0].FunctionARN };
}

function behaviour(cfg: Json, path: string): Json {
  const b = cfg.CacheBehaviors.find((x: Json) => x.PathPattern === path);
  expect(b, path).toBeDefined();
  return b;
}

const isApiOf = (o: Json, stack: string) => asText(o.DomainName).includes(`"StackName":"${stack}"`) && asText(o.DomainName).includes('.execute-api.');

/** The dynamic reference CloudFront's API origins carry: the value stays in Secrets Manager. */
const ORIGIN_REF = (env: string) => `{{resolve:secretsmanager:oci-registry/${env}/origin-verify:SecretString:key::}}`;

describe.each([
  { env: 'dev', primary: 'us-east-1', replicas: [] as string[], fallback: '', ingest: false, priceClass: 'PriceClass_100' },
  { env: 'staging', primary: 'eu-west-1', replicas: [] as string[], fallback: '', ingest: true, priceClass: 'PriceClass_100' },
  { env: 'prod', primary: 'us-east-1', replicas: ['eu-west-1', 'ap-southeast-2'], fallback: 'eu-west-1', ingest: true, priceClass: 'PriceClass_All' },
])('$env edge', ({ env, primary, replicas, fallback, ingest, priceClass }) => {
  it('lives in us-east-1, HTTP/2 and HTTP/3, IPv6, price class per environment', () => {
    expect(s.assembly.getStackByName(`OciRegistry-${env}-Edge`).environment.region).toBe('us-east-1');
    const cfg = distribution(env);
    expect(cfg.HttpVersion).toBe('http2and3');
    expect(cfg.IPV6Enabled).toBe(true);
    expect(cfg.PriceClass).toBe(priceClass);
    expect(cfg.Enabled).toBe(true);
  });

  it('default behaviour: the primary API, every method, GET/HEAD kept only as the origin allows (Authorization and Accept in the key), all headers but Host and all query strings forwarded', () => {
    const cfg = distribution(env);
    const d = cfg.DefaultCacheBehavior;
    expect(d.AllowedMethods).toEqual(ALL_METHODS);
    expect(d.CachedMethods).toEqual(['GET', 'HEAD']);
    const policy = (s.templateJson(`OciRegistry-${env}-Edge`).Resources as Record<string, Json>)[d.CachePolicyId.Ref].Properties.CachePolicyConfig as Json;
    // Nothing without the origin's Cache-Control (core/shared-cache.ts marks only anonymous public reads).
    expect(policy).toMatchObject({ DefaultTTL: 0, MinTTL: 0 });
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin;
    expect(key.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: ['Authorization', 'Accept'] });
    expect(key.QueryStringsConfig).toEqual({ QueryStringBehavior: 'all' });
    expect(key.CookiesConfig).toEqual({ CookieBehavior: 'none' });
    expect(d.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST);
    expect(d.ViewerProtocolPolicy).toBe('https-only');
    const o = origin(cfg, d.TargetOriginId);
    expect(isApiOf(o, `OciRegistry-${env}-Api`)).toBe(true);
    expect(asText(o.DomainName)).toContain(`.execute-api.${primary}.`);
    expect(o.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
  });

  it(`upload behaviour: every method, nothing cached, every viewer header and query string; its own origin ${ingest ? 'the ingest VPC origin' : 'the primary API'}`, () => {
    const cfg = distribution(env);
    const b = behaviour(cfg, '/v2/*/blobs/uploads/*');
    expect(b.AllowedMethods).toEqual(ALL_METHODS);
    expect(b.CachePolicyId).toBe(CACHING_DISABLED);
    expect(b.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST);
    expect(b.ViewerProtocolPolicy).toBe('https-only');
    const o = origin(cfg, b.TargetOriginId);
    if (ingest) {
      expect(asText(o.VpcOriginConfig.VpcOriginId)).toContain(`"StackName":"OciRegistry-${env}-Ingest"`);
      expect(asText(o.DomainName)).toContain('DNSName');
    } else {
      expect(isApiOf(o, `OciRegistry-${env}-Api`)).toBe(true);
    }
  });

  it('upload behaviour runs the viewer-request function (with the KeyValueStore) and the viewer-response function; the API and blob behaviours run read routing', () => {
    const cfg = distribution(env);
    const b = behaviour(cfg, '/v2/*/blobs/uploads/*');
    const byEvent = Object.fromEntries(b.FunctionAssociations.map((a: Json) => [a.EventType, a.FunctionARN['Fn::GetAtt']]));
    expect(Object.keys(byEvent).sort()).toEqual(['viewer-request', 'viewer-response']);
    for (const [, attr] of Object.entries(byEvent) as Array<[string, string[]]>) expect(attr[1]).toBe('FunctionARN');
    const request = edgeFunction(env, byEvent['viewer-request'][0]);
    const response = edgeFunction(env, byEvent['viewer-response'][0]);
    expect(request.config.Runtime).toBe('cloudfront-js-2.0');
    expect(response.config.Runtime).toBe('cloudfront-js-2.0');
    // Function names are unique per account: named for the environment.
    expect(request.name).toBe(`oci-registry-${env}-upload-viewer-request`);
    expect(response.name).toBe(`oci-registry-${env}-upload-viewer-response`);
    // Only the viewer-request function reads upload keys: cf.kvs() needs exactly one store associated.
    const t = s.templateJson(`OciRegistry-${env}-Edge`);
    const kvs = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::CloudFront::KeyValueStore').map(([id]) => id);
    expect(kvs).toHaveLength(1);
    expect(request.config.KeyValueStoreAssociations).toEqual([{ KeyValueStoreARN: { 'Fn::GetAtt': [kvs[0], 'Arn'] } }]);
    expect(response.config.KeyValueStoreAssociations).toBeUndefined();
    expect(response.code).toBe(edgeFunctionSource('viewer-response'));
    const routing = readRouting(env);
    for (const x of [cfg.DefaultCacheBehavior, behaviour(cfg, '/blobs/*')]) {
      expect(x.FunctionAssociations, x.PathPattern).toEqual([{ EventType: 'viewer-request', FunctionARN: routing.arn }]);
    }
  });

  it(`viewer-request CONFIG names the distribution's actual origins: primary bucket through OAC, ${ingest ? 'the ingest VPC origin' : 'no ingest (refused at the edge)'}, the primary API`, () => {
    const cfg = distribution(env);
    const b = behaviour(cfg, '/v2/*/blobs/uploads/*');
    const assoc = b.FunctionAssociations.find((a: Json) => a.EventType === 'viewer-request');
    const fn = edgeFunction(env, assoc.FunctionARN['Fn::GetAtt'][0]);
    // The CONFIG line as deployed, read back from the template.
    const line = fn.code.match(/^var CONFIG = (\{[^\n]*\});$/m);
    expect(line).not.toBeNull();
    const config = JSON.parse(line![1]!) as EdgeConfig;
    expect(config.ingest).toBe(ingest);
    // cdk.json turns the fast path on in every environment; the switch is tested in infra/config.test.ts.
    expect(config.edgeUploads).toBe(true);
    // Every id the function may select is an origin of this distribution.
    const ids = cfg.Origins.map((o: Json) => o.Id);
    for (const id of [config.s3Origin, config.apiOrigin, config.ingestOrigin]) expect(ids).toContain(id);
    const s3 = origin(cfg, config.s3Origin);
    expect(asText(s3.DomainName)).toContain(`-${primary}.s3.${primary}.`);
    expect(s3.OriginAccessControlId).toBeDefined();
    const api = origin(cfg, config.apiOrigin);
    expect(isApiOf(api, `OciRegistry-${env}-Api`)).toBe(true);
    expect(asText(api.DomainName)).toContain(`.execute-api.${primary}.`);
    // Every API Gateway origin (primary, replicas, the page's group) carries the origin secret, so the
    // APIs can refuse whatever did not come through this distribution; S3 and the VPC origin do not.
    for (const o of cfg.Origins as Json[]) {
      if (o.CustomOriginConfig) expect(o.OriginCustomHeaders).toEqual([{ HeaderName: 'x-registry-origin-verify', HeaderValue: ORIGIN_REF(env) }]);
      else expect(o.OriginCustomHeaders).toBeUndefined();
    }
    // The API origin the function picks takes every method: the one of the default behaviour, not a failover group member.
    expect(config.apiOrigin).toBe(cfg.DefaultCacheBehavior.TargetOriginId);
    if (ingest) {
      expect(origin(cfg, config.ingestOrigin).VpcOriginConfig).toBeDefined();
      expect(config.ingestOrigin).toBe(b.TargetOriginId);
    } else {
      expect(config.ingestOrigin).toBe(config.apiOrigin);
    }
    // What is deployed is exactly functions/edge/viewer-request.js with those settings written in.
    expect(fn.code).toBe(edgeFunctionSource('viewer-request', config));
    expect(Buffer.byteLength(fn.code)).toBeLessThanOrEqual(EDGE_FUNCTION_MAX_BYTES);
  });

  it('S3 fast path: the OAC signs every request (PUTs included) with SigV4', () => {
    s.template(`OciRegistry-${env}-Edge`).hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
  });

  it('upload keys reach the KeyValueStore at deploy time through a custom resource, never through the template', () => {
    const t = s.templateJson(`OciRegistry-${env}-Edge`);
    const res = Object.entries(t.Resources);
    const kvs = res.find(([, r]) => r.Type === 'AWS::CloudFront::KeyValueStore')![0];
    const crs = res.filter(([, r]) => r.Type === 'Custom::UploadKeys');
    expect(crs).toHaveLength(1);
    const [crId, cr] = crs[0]!;
    const props = cr.Properties as Json;
    expect(props.KvsArn).toEqual({ 'Fn::GetAtt': [kvs, 'Arn'] });
    expect(asText(props.SecretArn)).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
    expect(Object.keys(props).sort()).toEqual(['KvsArn', 'SecretArn', 'ServiceToken']);
    const fnId = props.ServiceToken['Fn::GetAtt'][0] as string;
    const fn = t.Resources[fnId]!.Properties as Json;
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', FunctionName: `oci-registry-${env}-upload-keys` });
    expect(fn.Environment.Variables.KVS_ARN).toEqual({ 'Fn::GetAtt': [kvs, 'Arn'] });
    expect(fn.Environment.Variables.SECRET_ARN).toEqual(props.SecretArn);
    // The deployed code is what `npm run build` wrote to dist/upload-keys.
    expect(readdirSync(join(s.outdir, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`)).sort()).toEqual(readdirSync(join(ROOT, 'dist', 'upload-keys')).sort());
    expect(readFileSync(join(s.outdir, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs'))).toEqual(readFileSync(join(ROOT, 'dist', 'upload-keys', 'index.mjs')));
    // No key material anywhere in the template: only the secret's ARN (and the origin secret's
    // dynamic reference on the API origins, resolved by CloudFormation: asserted below).
    expect(asText(t).replaceAll(ORIGIN_REF(env), '')).not.toMatch(/upload-key-k1|SecretString|resolve:secretsmanager/);
    // Its role reads exactly that secret and writes exactly this store (and its own logs).
    const roleId = fn.Role['Fn::GetAtt'][0] as string;
    const statements = res
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && asText((r.Properties as Json).Roles).includes(`"${roleId}"`))
      .flatMap(([, r]) => (r.Properties as Json).PolicyDocument.Statement as Json[]);
    const byAction = Object.fromEntries(statements.flatMap((st) => [st.Action].flat().map((a: string) => [a, st.Resource])));
    expect(Object.keys(byAction).sort()).toEqual([
      'cloudfront-keyvaluestore:DescribeKeyValueStore',
      'cloudfront-keyvaluestore:ListKeys',
      'cloudfront-keyvaluestore:UpdateKeys',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
    for (const a of ['DescribeKeyValueStore', 'ListKeys', 'UpdateKeys']) expect(byAction[`cloudfront-keyvaluestore:${a}`]).toEqual({ 'Fn::GetAtt': [kvs, 'Arn'] });
    expect(byAction['secretsmanager:GetSecretValue']).toEqual(props.SecretArn);
    expect(statements.every((st) => st.Effect === 'Allow')).toBe(true);
    expect(asText(statements.map((st) => st.Resource))).not.toContain('"*"');
    // CloudFormation calls it once its policy exists; the distribution goes live after the keys.
    const policyIds = res.filter(([, r]) => r.Type === 'AWS::IAM::Policy' && asText((r.Properties as Json).Roles).includes(`"${roleId}"`)).map(([id]) => id);
    expect([(cr as Json).DependsOn ?? []].flat().sort()).toEqual([...policyIds, roleId].sort());
    const dist = res.find(([, r]) => r.Type === 'AWS::CloudFront::Distribution')![1] as Json;
    expect([dist.DependsOn ?? []].flat()).toContain(crId);
  });

  it('blob behaviour: S3 through OAC, signed URLs checked against the key group, signature out of the cache key', () => {
    const cfg = distribution(env);
    const b = behaviour(cfg, '/blobs/*');
    expect(b.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(asText(b.TrustedKeyGroups)).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
    expect(b.TrustedKeyGroups).toHaveLength(1);
    const t = s.template(`OciRegistry-${env}-Edge`);
    t.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        DefaultTTL: 604800,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          QueryStringsConfig: { QueryStringBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          CookiesConfig: { CookieBehavior: 'none' },
        }),
      }),
    });
    t.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    const bucketOrigin = (id: string, region: string) => {
      const o = origin(cfg, id);
      expect(asText(o.DomainName)).toContain(`-${region}.s3.${region}.`);
      expect(o.OriginAccessControlId).toBeDefined();
      expect(o.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    };
    // The behaviour's own origin is the primary bucket; the function picks every region's by id.
    bucketOrigin(b.TargetOriginId, primary);
    for (const region of [primary, ...replicas]) bucketOrigin(`blobs-${region}`, region);
    // The viewer's location reaches the function through the behaviour's origin request policy.
    const policy = Object.values(s.templateJson(`OciRegistry-${env}-Edge`).Resources).find((r) => r.Type === 'AWS::CloudFront::OriginRequestPolicy');
    expect(b.OriginRequestPolicyId).toEqual({ Ref: Object.entries(s.templateJson(`OciRegistry-${env}-Edge`).Resources).find(([, r]) => r === policy)![0] });
    expect((policy!.Properties as Json).OriginRequestPolicyConfig.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: ['CloudFront-Viewer-Latitude', 'CloudFront-Viewer-Longitude'] });
    // The key group holds the public key of the environment's configuration.
    const pem = readFileSync(join(ROOT, 'infra/keys/example-cdn-public.pem'), 'utf8');
    const keys = s.template(`OciRegistry-${env}-Keys`);
    keys.hasResourceProperties('AWS::CloudFront::PublicKey', { PublicKeyConfig: Match.objectLike({ EncodedKey: pem }) });
    keys.hasResourceProperties('AWS::CloudFront::KeyGroup', { KeyGroupConfig: Match.objectLike({ Items: [Match.objectLike({ Ref: Match.anyValue() })] }) });
  });

  it(`every region is an origin: ${1 + replicas.length} APIs and buckets; read routing sends writes to ${primary} and reads to the nearest region, ${fallback ? `failing over to ${primary} (from ${primary}: to ${fallback})` : 'no failover with one region'}`, () => {
    const cfg = distribution(env);
    const routing = readRouting(env);
    expect(routing.name).toBe(`oci-registry-${env}-read-routing`);
    expect(routing.code).toBe(edgeFunctionSource('read-routing', routing.config));
    expect(routing.config.primary).toBe(primary);
    expect(routing.config.fallback).toBe(fallback);
    expect(routing.config.regions.map((r) => r[0])).toEqual([primary, ...replicas]);
    for (const region of [primary, ...replicas]) {
      const api = origin(cfg, routing.config.api[region]!);
      expect(isApiOf(api, region === primary ? `OciRegistry-${env}-Api` : `OciRegistry-${env}-Api-${region}`)).toBe(true);
      expect(asText(api.DomainName)).toContain(`.execute-api.${region}.`);
      expect(api.CustomOriginConfig).toMatchObject({ OriginReadTimeout: 30 });
      expect(api.ConnectionTimeout).toBe(5);
      expect(api.ConnectionAttempts).toBe(2);
      const bucket = origin(cfg, routing.config.blobs[region]!);
      expect(asText(bucket.DomainName)).toContain(`-${region}.s3.${region}.`);
    }
    // The primary API is the default behaviour's origin: writes land there even if the function did nothing.
    expect(routing.config.api[primary]).toBe(cfg.DefaultCacheBehavior.TargetOriginId);
    // Static origin groups only on GET-only behaviours (the unavailable page's); reads fail over by the function.
    for (const b of [cfg.DefaultCacheBehavior, ...cfg.CacheBehaviors]) {
      if ((cfg.OriginGroups?.Items ?? []).some((g: Json) => g.Id === b.TargetOriginId)) expect(b.AllowedMethods).toEqual(['GET', 'HEAD']);
    }
    expect(cfg.CacheBehaviors.map((b: Json) => b.PathPattern)).toEqual(['/blobs/*', '/v2/_registry/*', '/ui/*', '/index.html', '/v2/*/blobs/uploads/*']);
  });

  it('an unreachable (502) or silent (504) origin is answered 503 with the API\'s OCI error page, never cached', () => {
    const cfg = distribution(env);
    expect(cfg.CustomErrorResponses).toEqual([502, 504].map((ErrorCode) => ({ ErrorCode, ResponseCode: 503, ResponsePagePath: UNAVAILABLE_PAGE_PATH, ErrorCachingMinTTL: 0 })));
    // CloudFront fetches the page without running viewer-request functions: its own GET-only
    // behaviour, starting with the replica the primary fails over to (the primary may be what is down).
    const page = cfg.CacheBehaviors.find((b: Json) => matchesPathPattern(b.PathPattern, UNAVAILABLE_PAGE_PATH));
    expect(page.PathPattern).toBe('/v2/_registry/*');
    expect(page.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(page.FunctionAssociations).toBeUndefined();
    if (fallback) {
      const group = cfg.OriginGroups.Items.find((g: Json) => g.Id === page.TargetOriginId);
      expect(group.Members.Items.map((m: Json) => m.OriginId)).toEqual([`page-api-${fallback}`, `page-api-${primary}`]);
      expect(asText(origin(cfg, `page-api-${fallback}`).DomainName)).toContain(`.execute-api.${fallback}.`);
    } else {
      expect(page.TargetOriginId).toBe(cfg.DefaultCacheBehavior.TargetOriginId);
    }
  });

  it(`origin timeouts: API 30 s (API Gateway's own limit), ingest ${ingest ? '120 s' : '(none)'}`, () => {
    const cfg = distribution(env);
    expect(ORIGIN_TIMEOUTS.api.read).toBe(30);
    if (ingest) expect(origin(cfg, 'ingest').VpcOriginConfig).toMatchObject({ OriginReadTimeout: 120, OriginKeepaliveTimeout: 60 });
  });
});

describe('certificate and DNS', () => {
  it('dev: no custom domain, the CloudFront certificate', () => {
    const cfg = distribution('dev');
    expect(cfg.Aliases).toBeUndefined();
    expect(cfg.ViewerCertificate).toBeUndefined();
    s.template('OciRegistry-dev-Edge').resourceCountIs('AWS::CertificateManager::Certificate', 0);
  });

  it('staging: the imported us-east-1 certificate, TLS 1.2, SNI, no DNS records', () => {
    const cfg = distribution('staging');
    expect(cfg.Aliases).toEqual(['registry.staging.example.com']);
    expect(cfg.ViewerCertificate).toEqual({
      AcmCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000',
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
    const t = s.template('OciRegistry-staging-Edge');
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('prod: a DNS-validated certificate in the hosted zone and A/AAAA aliases to the distribution', () => {
    const t = s.template('OciRegistry-prod-Edge');
    t.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'registry.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'registry.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }],
    });
    for (const type of ['A', 'AAAA']) {
      t.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: 'registry.example.com.',
        Type: type,
        HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        AliasTarget: Match.objectLike({ DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Distribution'), 'DomainName'] } }),
      });
    }
    expect(distribution('prod').ViewerCertificate).toMatchObject({ MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
  });
});
