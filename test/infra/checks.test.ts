// What the whole app must pass: cdk-nag AwsSolutions with zero unacknowledged findings (each
// acknowledgement with its reason, in code), CDK's CloudFormation validation as errors, and
// CloudFormation's limits; plus the loud warning an open environment gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdkJson, ROOT, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Synthesized } from './synth.ts';
import { buildApp } from '../../infra/build-app.ts';

let s: Synthesized;
// Synthesizing every environment takes ~10 s, most of it CDK's CloudFormation validation.
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

function acknowledgements(app: App): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const c of app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) out.push({ path: c.node.path, id, reason });
    }
  }
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any stack of any environment', () => {
    const report = new AwsSolutionsChecks().validateScope(s.built.app);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    expect(report.success).toBe(true);
    expect(s.built.app.node.findAll().filter((c) => c instanceof Stack)).toHaveLength(s.assembly.stacks.length);
  });

  it('acknowledges only these rules, each with its reason in code', () => {
    // CDK records bare ids as annotation ids ("Annotation::<id>"); cdk-nag strips the prefix.
    const all = acknowledgements(s.built.app).map((a) => ({ ...a, id: a.id.replace(/^Annotation::/, '') }));
    // CDK itself acknowledges two schema findings on the VPC flow log (camelCase options).
    const cdkOwn = all.filter((a) => a.id.startsWith('CloudFormation-Validate::'));
    expect(new Set(cdkOwn.map((a) => `${a.id} ${a.path.replace(/^OciRegistry-[a-z]+-/, '')}`))).toEqual(new Set([
      'CloudFormation-Validate::F3002 Ingest/Vpc/RejectedFlows',
      'CloudFormation-Validate::F3003 Ingest/Vpc/RejectedFlows',
    ]));
    const acks = all.filter((a) => !cdkOwn.includes(a));
    for (const a of acks) expect(a.reason.length, `${a.id} at ${a.path}`).toBeGreaterThan(40);
    const rules = [...new Set(acks.map((a) => a.id.replace(/\[.*$/, '')))].sort();
    expect(rules).toEqual([
      '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      'AwsSolutions-APIG4',
      'AwsSolutions-CFR1',
      'AwsSolutions-CFR2',
      'AwsSolutions-CFR3',
      'AwsSolutions-CFR4',
      'AwsSolutions-ECS2',
      'AwsSolutions-ELB2',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SF2',
      'AwsSolutions-SMG4',
      'AwsSolutions-SNS2',
    ]);
    // Wildcards are acknowledged one resource at a time: object prefixes (blobs/by-upload/ for tagging), the replication role's
    // buckets, the API's and the GC's CDN purge, the API's upstream secrets, and the actions without resource-level permissions.
    // The web interface's deployment (CDK's BucketDeployment, edge stack): CDK's own grants on its
    // role, its Python function (L1); nothing else of these on it, and nothing of it elsewhere.
    const deployment = (a: { path: string }) => /-Edge\/WebUi\/DeployRole$|-Edge\/Custom::CDKBucketDeployment[0-9A-F]+\d+MiB$/.test(a.path);
    const ofDeployment = acks.filter(deployment);
    expect(new Set(ofDeployment.map((a) => a.id.replace(/<WebUiBucket[0-9A-F]+\.Arn>/, '<ui bucket>').replace(/assets-(<AWS::AccountId>|\d{12})-us-east-1/, 'assets-<account>-us-east-1')))).toEqual(new Set([
      'AwsSolutions-IAM5[Action::s3:GetBucket*]', 'AwsSolutions-IAM5[Action::s3:GetObject*]', 'AwsSolutions-IAM5[Action::s3:List*]',
      'AwsSolutions-IAM5[Action::s3:Abort*]', 'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
      'AwsSolutions-IAM5[Resource::<ui bucket>/*]', 'AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-<account>-us-east-1/*]',
      'AwsSolutions-L1',
    ]));
    expect(acks.filter((a) => a.id === 'AwsSolutions-L1' && !deployment(a))).toEqual([]);
    const wildcards = acks.filter((a) => a.id.startsWith('AwsSolutions-IAM5') && !deployment(a));
    for (const w of wildcards) {
      expect(w.id).toMatch(/^AwsSolutions-IAM5\[Resource::(.*\/(blobs|uploads|manifests)\/\*|.*\/\*|\*|<GcFunction[0-9A-F]+\.Arn>:\*)\]$/);
      // ecr:GetAuthorizationToken, Step Functions' log delivery, the GC's cloudfront:ListDistributions,
      // secretsmanager:GetRandomPassword (the token key rotation).
      if (w.id === 'AwsSolutions-IAM5[Resource::*]') expect(w.path).toMatch(/Ingest\/Task\/ExecutionRole$|Gc\/GcStateMachine\/Role$|Gc\/GcFunction\/Role$|Keys\/TokenKeyRotation\/Role$/);
      // The primary API purges the CDN (CreateInvalidation on the account's distributions; its id is read from each DELETE),
      // and so does the GC after a run (the distribution found by its comment).
      if (/:cloudfront::.*:distribution\/\*\]$/.test(w.id)) {
        expect(w.path).toMatch(/-Api\/ApiFunction\/Role$|-Gc\/GcFunction\/Role$/);
        continue;
      }
      // The primary API reads proxy projects' upstream credentials: one secret per project under the environment's prefix.
      if (/:secretsmanager:.*:secret:oci-registry\/[a-z0-9-]+\/upstream\/\*\]$/.test(w.id)) {
        expect(w.path).toMatch(/-Api\/ApiFunction\/Role$/);
        continue;
      }
      // The GC state machine invokes its function's versions (<arn>:*); GC keeps its runs under gc/.
      if (/GcFunction[0-9A-F]+\.Arn>:\*\]$/.test(w.id)) expect(w.path).toMatch(/Gc\/GcStateMachine\/Role$/);
      else if (!/\/(blobs|uploads|manifests|blobs\/by-upload|gc)\/\*\]$/.test(w.id) && w.id !== 'AwsSolutions-IAM5[Resource::*]') expect(w.path).toMatch(/ReplicationRole$/);
    }
    // SMG4 (no automatic rotation) on the secrets an operator rotates, never on the token keys (they rotate every 30 days).
    const smg4 = acks.filter((a) => a.id === 'AwsSolutions-SMG4').map((a) => a.path.replace(/^OciRegistry-[a-z]+-/, ''));
    expect(new Set(smg4)).toEqual(new Set(['Keys/SigningKeys', 'Keys/OriginSecret', 'Keys/CdnPrivateKey']));
    // CFR4 (viewer TLS policy) only where CloudFront's own certificate is used: dev, no domain.
    expect(acks.filter((a) => a.id === 'AwsSolutions-CFR4').map((a) => a.path)).toEqual(['OciRegistry-dev-Edge/Distribution']);
  });

  it('fails synth on a finding nobody acknowledged', { timeout: SYNTH_TIMEOUT_MS }, () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-nag-'));
    try {
      process.chdir(ROOT);
      const { app } = buildApp({ outdir, context: { ...cdkJson().context, env: 'dev' } }, ROOT);
      const stray = new Stack(app, 'Stray', { env: { region: 'us-east-1' } });
      new s3.Bucket(stray, 'Open', { versioned: true });
      expect(() => app.synth()).toThrow(/validation-report\.json/);
      type Report = { pluginReports: Array<{ pluginName: string; conclusion: string; violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }> };
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
      // cdk-nag fails; no other report has anything to say (dev has no open-access warning any more).
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
      expect(nag.conclusion).toBe('failure');
      for (const other of report.pluginReports.filter((r) => r !== nag)) expect(other.violations).toEqual([]);
      // Only the stray bucket: no access logs (S1), no TLS-only policy (S10).
      const found = nag.violations.map((v) => `${v.ruleName} ${v.violatingConstructs.map((c) => c.constructPath).join()}`);
      expect(found.sort()).toEqual(['AwsSolutions-S1 Stray/Open/Resource', 'AwsSolutions-S10 Stray/Open/Resource']);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('CloudFormation validation', () => {
  it('cdk.json turns CDK\'s template checks into errors', () => {
    expect(cdkJson().context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });

  function synthWithBadQueue(flag: boolean): () => unknown {
    return () => {
      const outdir = mkdtempSync(join(tmpdir(), 'cdk-validate-'));
      try {
        const app = new App({ outdir, context: { ...cdkJson().context, '@aws-cdk/core:validateAgainstDefaultRules': flag } });
        const stack = new Stack(app, 'Bad', { env: { region: 'us-east-1' } });
        // The schema allows 60 to 1209600 seconds.
        new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { MessageRetentionPeriod: 5 } });
        return app.synth();
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    };
  }

  it('a template CloudFormation would reject fails synth with the flag on, and only warns without it', { timeout: SYNTH_TIMEOUT_MS }, () => {
    expect(synthWithBadQueue(true)).toThrow(/MessageRetentionPeriod|Validation/);
    expect(synthWithBadQueue(false)).not.toThrow();
  });
});

describe('CloudFormation limits', () => {
  it('every template stays under 500 resources, 1 MB, 200 outputs and 200 parameters', () => {
    const sizes: Record<string, { resources: number; bytes: number }> = {};
    for (const stack of s.assembly.stacks) {
      const t = stack.template as { Resources: object; Outputs?: object; Parameters?: object };
      const resources = Object.keys(t.Resources).length;
      const bytes = Buffer.byteLength(JSON.stringify(t));
      sizes[stack.stackName] = { resources, bytes };
      expect(resources, stack.stackName).toBeLessThan(500);
      expect(bytes, stack.stackName).toBeLessThan(1_000_000);
      expect(Object.keys(t.Outputs ?? {}).length, stack.stackName).toBeLessThan(200);
      expect(Object.keys(t.Parameters ?? {}).length, stack.stackName).toBeLessThan(200);
    }
    // Every environment synthesized: 7 stacks for dev, 9 for staging (its CloudFront alarm is in
    // us-east-1), 14 for prod (api, storage and monitoring in three regions); each has a Gc stack.
    expect(s.assembly.stacks).toHaveLength(30);
    const largest = Object.entries(sizes).sort((a, b) => b[1].resources - a[1].resources)[0]!;
    expect(largest[1].resources).toBeLessThan(100);
  });
});

describe('access', () => {
  it('no environment is open: no API carries an open-access warning, and each runs token auth', () => {
    for (const stack of ['OciRegistry-dev-Api', 'OciRegistry-staging-Api', 'OciRegistry-prod-Api']) {
      const messages = s.assembly.getStackByName(stack).messages.map((m) => String(m.entry.data));
      expect(messages.some((w) => /OPEN|open-access/.test(w)), stack).toBe(false);
    }
  });

  it('synth refuses an environment that still sets access (open or closed), naming how its first admin is made', { timeout: SYNTH_TIMEOUT_MS }, () => {
    const context = cdkJson().context;
    const envs = context['registry:environments'] as Record<string, Record<string, unknown>>;
    for (const access of ['open', 'closed']) {
      const withAccess = { ...context, env: 'dev', 'registry:environments': { ...envs, dev: { ...envs.dev, access } } };
      expect(() => buildApp({ context: withAccess, outdir: mkdtempSync(join(tmpdir(), 'cdk-access-')) }, ROOT)).toThrow(/dev\.access is gone: every environment has token authentication on \(its first admin: npm run admin -- user add/);
    }
  });
});
