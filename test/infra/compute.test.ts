// API, events and ingest: the Lambda runtime, architecture and bundle (the one `npm run build`
// writes), the environment the runtime reads, the HTTP API's throttling and access logs, IAM
// scoped to the table and to bucket prefixes, and the ingest service on Fargate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
// Synthesizing every environment takes ~10 s, most of it CDK's CloudFormation validation.
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const asText = (v: unknown) => JSON.stringify(v);

function only(stack: string, type: string): Json {
  const found = Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === type);
  expect(found, `${type} in ${stack}`).toHaveLength(1);
  return found[0]!.Properties;
}

function all(stack: string, type: string): Json[] {
  return Object.values(s.templateJson(stack).Resources).filter((r) => r.Type === type).map((r) => r.Properties);
}

/** Every Allow statement of the policies attached to a role (logical id prefix). */
function statementsOf(stack: string, rolePrefix: string): Json[] {
  const resources = s.templateJson(stack).Resources;
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asText((r.Properties as Json).Roles).includes(`"${rolePrefix}`))
    .flatMap((r) => (r.Properties as Json).PolicyDocument.Statement);
}

const actions = (st: Json): string[] => [st.Action].flat();
const resources = (st: Json): string[] => [st.Resource].flat().map(asText);

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length + 1)] = readFileSync(join(e.parentPath, e.name)).toString('base64');
  }
  return out;
}

const APIS = [
  { env: 'dev', stack: 'OciRegistry-dev-Api', region: 'us-east-1', primary: true, cdnUrl: undefined },
  { env: 'staging', stack: 'OciRegistry-staging-Api', region: 'eu-west-1', primary: true, cdnUrl: 'https://registry.staging.example.com' },
  { env: 'prod', stack: 'OciRegistry-prod-Api', region: 'us-east-1', primary: true, cdnUrl: 'https://registry.example.com' },
  { env: 'prod', stack: 'OciRegistry-prod-Api-eu-west-1', region: 'eu-west-1', primary: false, cdnUrl: 'https://registry.example.com' },
  { env: 'prod', stack: 'OciRegistry-prod-Api-ap-southeast-2', region: 'ap-southeast-2', primary: false, cdnUrl: 'https://registry.example.com' },
];

describe.each(APIS)('$stack', ({ env, stack, region, primary, cdnUrl }) => {
  it('API Lambda: Node 24 on arm64, index.handler of the dist/api bundle', () => {
    const fn = only(stack, 'AWS::Lambda::Function');
    expect(fn.Runtime).toBe('nodejs24.x');
    expect(fn.Architectures).toEqual(['arm64']);
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Timeout).toBeLessThanOrEqual(29);
    // The deployed code is byte for byte what `npm run build` wrote to dist/api.
    const asset = join(s.outdir, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`);
    expect(files(asset)).toEqual(files(join(ROOT, 'dist', 'api')));
  });

  it('environment: table, the bucket of its own region, keys, token auth, CDN, Powertools', () => {
    const vars = only(stack, 'AWS::Lambda::Function').Environment.Variables;
    expect(vars.TABLE_NAME).toBe(`oci-registry-${env}`);
    expect(asText(vars.BUCKET_NAME)).toMatch(new RegExp(`oci-registry-${env}-.*-${region}"`));
    expect(vars.REGISTRY_ACCESS).toBeUndefined();
    expect(vars.REGISTRY_LOCAL_OPEN).toBeUndefined();
    // No cdk.json environment sets proxyMirror: no mirror mapping (test/infra/proxy-mirror.test.ts sets one).
    expect(vars.REGISTRY_PROXY_MIRROR).toBeUndefined();
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe('oci-registry-api');
    expect(vars.POWERTOOLS_METRICS_NAMESPACE).toBe(`OciRegistry/${env}`);
    expect(vars.CDN_URL).toBe(cdnUrl);
    expect(asText(vars.CDN_KEY_PAIR_ID)).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
    // Token auth everywhere: the realm https://<domain>/token, or without a domain CloudFront's own
    // host named in each request (functions/aws/public-url.ts) and the environment as the service.
    if (cdnUrl) {
      expect(vars.REGISTRY_URL).toBe(cdnUrl);
      expect(vars.REGISTRY_AUTH_SERVICE).toBeUndefined();
    } else {
      expect(vars.REGISTRY_URL).toBeUndefined();
      expect(vars.REGISTRY_AUTH_SERVICE).toBe(`oci-registry-${env}`);
    }
    for (const key of ['KEYS_SECRET_ARN', 'CDN_PRIVATE_KEY_SECRET_ARN', 'TOKEN_KEYS_SECRET_ARN']) {
      const arn = asText(vars[key]);
      expect(arn).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
      // A replica reads the Secrets Manager replica in its own region.
      if (!primary) expect(arn).toContain(`:secretsmanager:${region}:`);
    }
  });

  it('HTTP API: payload v2 to the Lambda, $default stage throttled, JSON access logs', () => {
    const integration = only(stack, 'AWS::ApiGatewayV2::Integration');
    expect(integration.IntegrationType).toBe('AWS_PROXY');
    expect(integration.PayloadFormatVersion).toBe('2.0');
    const stage = only(stack, 'AWS::ApiGatewayV2::Stage');
    expect(stage.StageName).toBe('$default');
    expect(stage.DefaultRouteSettings).toEqual(env === 'prod' ? { ThrottlingBurstLimit: 4000, ThrottlingRateLimit: 2000 } : { ThrottlingBurstLimit: 1000, ThrottlingRateLimit: 500 });
    const format = JSON.parse(stage.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', latencyMs: '$context.responseLatency' });
    expect(stage.AccessLogSettings.Format).not.toMatch(/querystring|authorization/i);
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AccessLogs/), 'Arn'] });
    s.template(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it(`IAM: ${primary ? 'read/write' : 'read only'} on the table of its region and on its bucket prefixes, the four secrets (token keys: auth is on everywhere; the origin secret among them), its own logs`, () => {
    const st = statementsOf(stack, 'ApiFunctionRole');
    expect(st.every((x) => x.Effect === 'Allow')).toBe(true);
    const all = st.flatMap(actions);
    expect(all.some((a) => a.endsWith(':*') || a === '*')).toBe(false);
    for (const x of st) for (const r of resources(x)) expect(r).not.toBe('"*"');

    const table = st.filter((x) => actions(x).some((a) => a.startsWith('dynamodb:')) && x.Condition === undefined);
    expect(table).toHaveLength(1);
    // The primary purges the CDN on deletes: CreateInvalidation only, on the account's distributions.
    const cdn = st.filter((x) => actions(x).some((a) => a.startsWith('cloudfront:')));
    expect(cdn.map((x) => ({ actions: actions(x), resources: resources(x) }))).toEqual(primary
      ? [{ actions: ['cloudfront:CreateInvalidation'], resources: [expect.stringMatching(/:cloudfront::.*:distribution\/\*"/)] }]
      : []);
    // A replica writes two kinds of item: the failed-login counters and the audit entries of logins
    // (GET /token is served in every region).
    const conditional = st.filter((x) => x.Condition !== undefined);
    expect(conditional.map((x) => ({ actions: actions(x), condition: x.Condition }))).toEqual(primary
      ? []
      : [{ actions: ['dynamodb:UpdateItem'], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LOGIN#*', 'AUDIT#*'] } } }]);
    expect(resources(table[0]).join()).toMatch(new RegExp(`:dynamodb:${region}:.*:table/oci-registry-${env}"`));
    const tableActions = actions(table[0]).sort();
    expect(tableActions).toEqual(primary
      ? ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']
      : ['dynamodb:GetItem', 'dynamodb:Query']);

    // ListBucket on the bucket itself, so a missing key is a 404 (else S3 answers 403).
    const list = st.filter((x) => actions(x).includes('s3:ListBucket'));
    expect(list.flatMap(actions)).toEqual(['s3:ListBucket']);
    expect(list.flatMap(resources)).toEqual([expect.stringMatching(new RegExp(`:s3:::oci-registry-${env}-",.*"-${region}"\\]\\]}$`))]);
    const s3 = st.filter((x) => actions(x).some((a) => a.startsWith('s3:')) && !actions(x).includes('s3:ListBucket'));
    const prefixesFor = (action: string) => s3.filter((x) => actions(x).includes(action)).flatMap(resources)
      .map((r) => { const m = r.match(new RegExp(`-${region}/([a-z/-]+/)\\*"`)); expect(m, r).not.toBeNull(); return m![1]; }).sort();
    if (primary) {
      expect(prefixesFor('s3:GetObject')).toEqual(['blobs/', 'manifests/', 'uploads/']);
      expect(prefixesFor('s3:PutObject')).toEqual(['blobs/', 'manifests/', 'uploads/']);
      expect(prefixesFor('s3:DeleteObject')).toEqual(['blobs/', 'manifests/', 'uploads/']);
      expect(prefixesFor('s3:AbortMultipartUpload')).toEqual(['blobs/by-upload/']);
      const tagging = s3.filter((x) => actions(x).includes('s3:PutObjectTagging'));
      expect(tagging.flatMap(actions)).toEqual(['s3:PutObjectTagging']);
      expect(tagging.flatMap(resources).map((r) => r.match(/-[a-z0-9-]+\/(blobs\/by-upload\/)\*"/)?.[1] ?? r)).toEqual(['blobs/by-upload/']);
    } else {
      expect(prefixesFor('s3:GetObject')).toEqual(['blobs/', 'manifests/']);
      expect(all.filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    }
    // The primary also reads proxy projects' upstream credentials (their own statement, one prefix).
    const upstream = st.filter((x) => x.Sid === 'ReadUpstreamCredentials');
    expect(upstream).toHaveLength(primary ? 1 : 0);
    if (primary) {
      expect(actions(upstream[0])).toEqual(['secretsmanager:GetSecretValue']);
      expect(resources(upstream[0])).toEqual([expect.stringMatching(new RegExp(`:secret:oci-registry/${env}/upstream/\\*"`))]);
    }
    const secrets = st.filter((x) => actions(x).includes('secretsmanager:GetSecretValue') && x.Sid !== 'ReadUpstreamCredentials');
    expect(secrets).toHaveLength(1);
    expect(actions(secrets[0])).toEqual(['secretsmanager:GetSecretValue']);
    expect(resources(secrets[0])).toHaveLength(4);
    const vars = only(stack, 'AWS::Lambda::Function').Environment.Variables;
    expect(resources(secrets[0])).toContain(asText(vars.ORIGIN_SECRET_ARN));
    const logs = st.filter((x) => actions(x).some((a) => a.startsWith('logs:')));
    expect(resources(logs[0])).toEqual([expect.stringMatching(/ApiFunctionLogs/)]);
    // No managed policies: the role holds exactly these statements.
    const roles = all.length && s.template(stack).findResources('AWS::IAM::Role');
    for (const role of Object.values(roles as Json)) expect((role as Json).Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe.each(['dev', 'staging', 'prod'])('%s events Lambda', (env) => {
  const stack = `OciRegistry-${env}-Events`;
  it('Node 24 on arm64, the dist/events bundle, a fixed name the bucket notifies', () => {
    const fn = only(stack, 'AWS::Lambda::Function');
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', FunctionName: `oci-registry-${env}-events` });
    expect(files(join(s.outdir, `asset.${fn.Code.S3Key.replace(/\.zip$/, '')}`))).toEqual(files(join(ROOT, 'dist', 'events')));
    const vars = fn.Environment.Variables;
    expect(vars).toMatchObject({ TABLE_NAME: `oci-registry-${env}`, POWERTOOLS_SERVICE_NAME: 'oci-registry-events' });
    expect(vars.REGISTRY_ACCESS).toBeUndefined();
    expect(asText(vars.BUCKET_NAME)).toMatch(new RegExp(`-${env === 'staging' ? 'eu-west-1' : 'us-east-1'}"`));
    // functions/aws/config.ts refuses to start without KEYS_SECRET_ARN.
    expect(asText(vars.KEYS_SECRET_ARN)).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
  });

  it('IAM: table get/put/update/delete (putBlob is an upsert); GetObject (HEAD) and DeleteObject (duplicate copies) on blobs/ only, ListBucket (a late event meets a 404); the signing keys secret', () => {
    const st = statementsOf(stack, 'EventsFunctionRole');
    expect(st.filter((x) => actions(x).includes('s3:ListBucket')).flatMap(resources)).toEqual([expect.stringMatching(/:s3:::oci-registry-[a-z]+-",.*"-[a-z0-9-]+"\]\]}$/)]);
    const s3 = st.filter((x) => actions(x).some((a) => a.startsWith('s3:')) && !actions(x).includes('s3:ListBucket'));
    expect(s3.flatMap(actions).sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    expect(s3.flatMap(resources).map((r) => r.match(/\/([a-z]+\/)\*"/)![1])).toEqual(['blobs/']);
    const table = st.filter((x) => actions(x).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap(resources).join()).toMatch(new RegExp(`:table/oci-registry-${env}"`));
    expect(table.flatMap(actions).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    const secrets = st.filter((x) => actions(x).some((a) => a.startsWith('secretsmanager:')));
    expect(secrets.flatMap(actions)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secrets.flatMap(resources)).toHaveLength(1);
    expect(secrets.flatMap(resources)[0]).toContain(`"StackName":"OciRegistry-${env}-Keys"`);
  });
});

describe('ingest', () => {
  it('dev has none; staging and prod run it', () => {
    const names = s.assembly.stacks.map((x) => x.stackName);
    expect(names).not.toContain('OciRegistry-dev-Ingest');
    expect(names).toContain('OciRegistry-staging-Ingest');
    expect(names).toContain('OciRegistry-prod-Ingest');
  });

  describe.each([
    { env: 'prod', min: 2, max: 10 },
    { env: 'staging', min: 1, max: 4 },
  ])('$env', ({ env, min, max }) => {
    const stack = `OciRegistry-${env}-Ingest`;
    it('Fargate on arm64, the ingest image listening on 8080, health checked on /healthz', () => {
      const task = only(stack, 'AWS::ECS::TaskDefinition');
      expect(task.RuntimePlatform).toEqual({ CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
      expect(task.RequiresCompatibilities).toEqual(['FARGATE']);
      const container = task.ContainerDefinitions[0];
      expect(container.PortMappings).toEqual([{ ContainerPort: 8080, Protocol: 'tcp' }]);
      const env = Object.fromEntries(container.Environment.map((e: Json) => [e.Name, e.Value]));
      expect(env.PORT).toBe('8080');
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('oci-registry-ingest');
      expect(env.REGISTRY_ACCESS).toBeUndefined();
      // It verifies the bearer token of a streamed PATCH, with the realm of its environment's domain.
      expect(env.TOKEN_KEYS_SECRET_ARN).toBeDefined();
      expect(env.REGISTRY_URL).toMatch(/^https:\/\/registry(\.staging)?\.example\.com$/);
      const tg = only(stack, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      expect(tg).toMatchObject({ HealthCheckPath: '/healthz', Port: 8080, Protocol: 'HTTP', TargetType: 'ip' });
      expect(asText(container.Image)).toContain('container-assets');
    });

    it('image: built for linux/arm64 from functions/apps/ingest/Dockerfile, with exactly dist/ingest in its context', () => {
      const manifest = JSON.parse(readFileSync(join(s.outdir, `${stack}.assets.json`), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }> };
      const images = Object.values(manifest.dockerImages);
      expect(images).toHaveLength(1);
      expect(images[0]!.source).toMatchObject({ dockerFile: 'functions/apps/ingest/Dockerfile', platform: 'linux/arm64' });
      const context = files(join(s.outdir, images[0]!.source.directory));
      const bundle = Object.fromEntries(Object.entries(files(join(ROOT, 'dist', 'ingest'))).map(([k, v]) => [join('dist', 'ingest', k), v]));
      expect(context).toEqual({ ...bundle, [join('functions', 'apps', 'ingest', 'Dockerfile')]: readFileSync(join(ROOT, 'functions/apps/ingest/Dockerfile')).toString('base64') });
    });

    it('behind an internal ALB that CloudFront reaches as a VPC origin', () => {
      const alb = only(stack, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      expect(alb.Scheme).toBe('internal');
      const vpcOrigin = only(stack, 'AWS::CloudFront::VpcOrigin');
      expect(vpcOrigin.VpcOriginEndpointConfig).toMatchObject({ HTTPPort: 80, OriginProtocolPolicy: 'http-only', Arn: { Ref: expect.stringMatching(/^Alb/) } });
      const sgs = all(stack, 'AWS::EC2::SecurityGroup');
      const ingress = sgs.flatMap((g) => g.SecurityGroupIngress ?? []);
      expect(ingress.every((r: Json) => r.CidrIp !== '0.0.0.0/0' && r.CidrIpv6 !== '::/0')).toBe(true);
      // S3 and DynamoDB through gateway endpoints on the tasks' (public) route tables.
      const endpoints = all(stack, 'AWS::EC2::VPCEndpoint');
      expect(endpoints.map((e) => asText(e.ServiceName).match(/\.(s3|dynamodb)"/)![1]).sort()).toEqual(['dynamodb', 's3']);
      for (const e of endpoints) {
        expect(e.VpcEndpointType).toBe('Gateway');
        expect(e.RouteTableIds).toHaveLength(2);
        for (const rt of e.RouteTableIds) expect(rt.Ref).toMatch(/^VpctasksSubnet/);
      }
      const service = only(stack, 'AWS::ECS::Service');
      expect(service.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
      expect(service.DesiredCount).toBe(min);
    });

    it(`scales from ${min} to ${max} tasks on CPU and on requests per task`, () => {
      const target = only(stack, 'AWS::ApplicationAutoScaling::ScalableTarget');
      expect(target).toMatchObject({ MinCapacity: min, MaxCapacity: max, ScalableDimension: 'ecs:service:DesiredCount' });
      const policies = all(stack, 'AWS::ApplicationAutoScaling::ScalingPolicy');
      const metrics = policies.map((p) => p.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType).sort();
      expect(metrics).toEqual(['ALBRequestCountPerTarget', 'ECSServiceAverageCPUUtilization']);
    });

    it('task role: upload requests only (sessions, blob records and links; blobs/ and uploads/, multipart on blobs/by-upload/)', () => {
      const st = statementsOf(stack, 'TaskRole');
      const byAction = (a: string) => st.filter((x) => actions(x).includes(a)).flatMap(resources).map((r) => r.match(/\/([a-z][a-z/-]*\/)\*"/)?.[1] ?? r).sort();
      expect(byAction('s3:PutObject')).toEqual(['blobs/', 'uploads/']);
      expect(st.flatMap(actions).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
      expect(byAction('s3:AbortMultipartUpload')).toEqual(['blobs/by-upload/']);
      expect(st.filter((x) => actions(x).includes('s3:PutObjectTagging')).flatMap(resources).map((r) => r.match(/(blobs\/by-upload\/)\*"/)?.[1] ?? r)).toEqual(['blobs/by-upload/']);
      expect(st.flatMap(actions).some((a) => a.endsWith(':*') || a === '*')).toBe(false);
      expect(byAction('dynamodb:PutItem').join()).toMatch(new RegExp(`:table/oci-registry-${env}"`));
    });
  });
});
