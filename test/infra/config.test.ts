// Environment configuration: the shipped cdk.json parses, a user's own environment needs no code,
// and every bad value fails with a message that names the field.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ENVIRONMENTS_CONTEXT_KEY, parseEnvironment, parseEnvironments } from '../../infra/config.ts';
import { cdkJson, ROOT } from './synth.ts';

const PEM = readFileSync(join(ROOT, 'infra/keys/example-cdn-public.pem'), 'utf8');
const base = { region: 'eu-central-1', cdnPublicKey: PEM };
const F = ENVIRONMENTS_CONTEXT_KEY;

function errorOf(raw: unknown, name = 'mine'): string {
  try {
    parseEnvironment(name, raw, ROOT);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('configuration was accepted');
}

describe('cdk.json environments', () => {
  const envs = parseEnvironments(cdkJson().context[F], undefined, ROOT);

  it('ships dev, staging and prod', () => {
    expect(envs.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
  });

  it('retains prod data', () => {
    const byName = Object.fromEntries(envs.map((e) => [e.name, e]));
    expect(byName.prod!.retain).toBe(true);
    expect(byName.prod!.replicaRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(byName.dev!.throwaway).toBe(true);
  });

  it('selects one environment with -c env=<name>', () => {
    expect(parseEnvironments(cdkJson().context[F], 'staging', ROOT).map((e) => e.name)).toEqual(['staging']);
    expect(() => parseEnvironments(cdkJson().context[F], 'qa', ROOT)).toThrow(/env names no environment .*"qa".*known: dev, staging, prod/);
  });
});

describe('a user-defined environment', () => {
  it('needs only a region and the CDN public key; the rest has safe defaults', () => {
    const env = parseEnvironment('mine', base, ROOT);
    expect(env).toMatchObject({
      name: 'mine', region: 'eu-central-1', replicaRegions: [], throwaway: false,
      ingest: true, edgeUploads: true, retain: false, priceClass: '100', throttle: { rateLimit: 500, burstLimit: 1000 },
    });
    expect(env.account).toBeUndefined();
    expect(env.domain).toBeUndefined();
  });

  it('runs GC every 24 h with a 12 h grace unless told otherwise', () => {
    expect(parseEnvironment('mine', base, ROOT).gc).toEqual({ enabled: true, everyHours: 24, graceMs: 12 * 3_600_000, untaggedMs: 86_400_000 });
    expect(parseEnvironment('mine', { ...base, gc: { enabled: false, everyHours: 6, grace: '2d', untagged: '0' } }, ROOT).gc).toEqual({ enabled: false, everyHours: 6, graceMs: 2 * 86_400_000, untaggedMs: 0 });
  });

  it('turns the edge fast path off with edgeUploads: false', () => {
    expect(parseEnvironment('mine', { ...base, edgeUploads: false }, ROOT).edgeUploads).toBe(false);
  });

  it('maps dockerd\'s registry-mirrors paths into a project with proxyMirror; none unless set', () => {
    expect(parseEnvironment('mine', { ...base, proxyMirror: 'docker.hub_1' }, ROOT).proxyMirror).toBe('docker.hub_1');
    expect(parseEnvironment('mine', base, ROOT).proxyMirror).toBeUndefined();
  });

  it('reads the public key from a file relative to the project', () => {
    const env = parseEnvironment('mine', { region: 'us-west-2', cdnPublicKeyFile: 'infra/keys/example-cdn-public.pem' }, ROOT);
    expect(env.cdnPublicKeyPem).toBe(PEM.trim() + '\n');
  });
});

describe('invalid configuration names the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing region', { cdnPublicKey: PEM }, /registry:environments\.mine\.region is required/],
    ['bad region', { ...base, region: 'Europe' }, /\.mine\.region must be an AWS region name/],
    ['replicas without a domain', { ...base, replicaRegions: ['eu-west-1'] }, /\.mine\.replicaRegions need a domain/],
    ['replica equal to primary', { ...base, replicaRegions: ['eu-central-1'] }, /\.mine\.replicaRegions\[0\] must differ from the primary region/],
    ['replica twice', { ...base, replicaRegions: ['eu-west-1', 'eu-west-1'] }, /\.mine\.replicaRegions lists a region twice/],
    ['replica not a region', { ...base, replicaRegions: [42] }, /\.mine\.replicaRegions\[0\] must be an AWS region name/],
    ['bad account', { ...base, account: '1234' }, /\.mine\.account must be a 12-digit AWS account id/],
    ['access open, even throwaway (gone: auth is on everywhere)', { ...base, throwaway: true, access: 'open' }, /\.mine\.access is gone: every environment has token authentication on \(its first admin: npm run admin -- user add <name> --admin --aws --env <env>/],
    ['access closed (gone too)', { ...base, access: 'closed' }, /\.mine\.access is gone/],
    ['retained throwaway', { ...base, throwaway: true, retain: true }, /\.mine\.retain cannot be true in a throwaway environment/],
    ['typo in a field name', { ...base, replicaRegion: ['eu-west-1'] }, /\.mine\.replicaRegion is not a known field/],
    ['domain without certificate or zone', { ...base, domain: { name: 'r.example.com' } }, /\.mine\.domain needs hostedZone .* or certificateArn/],
    ['certificate outside us-east-1', { ...base, domain: { name: 'r.example.com', certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc' } }, /\.mine\.domain\.certificateArn must be an ACM certificate ARN in us-east-1/],
    ['zone not a parent of the name', { ...base, domain: { name: 'r.example.com', hostedZone: { id: 'Z123', name: 'example.org' } } }, /\.mine\.domain\.hostedZone\.name must be r\.example\.com or a parent domain/],
    ['bad alarm e-mail', { ...base, alarms: { email: 'nobody' } }, /\.mine\.alarms\.email must be an e-mail address/],
    ['bad price class', { ...base, priceClass: '300' }, /\.mine\.priceClass must be "100", "200" or "All"/],
    ['ingest not a boolean', { ...base, ingest: 'yes' }, /\.mine\.ingest must be true or false/],
    ['edgeUploads not a boolean', { ...base, edgeUploads: 'off' }, /\.mine\.edgeUploads must be true or false/],
    ['throttle out of range', { ...base, throttle: { rateLimit: 0 } }, /\.mine\.throttle\.rateLimit must be an integer from 1 to 100000/],
    ['max tasks below min', { ...base, ingestScaling: { minTasks: 3, maxTasks: 2 } }, /\.mine\.ingestScaling\.maxTasks must be at least minTasks/],
    ['gc not an object', { ...base, gc: 'daily' }, /\.mine\.gc must be an object/],
    ['gc field typo', { ...base, gc: { every: 24 } }, /\.mine\.gc\.every is not a known field/],
    ['gc every 0 hours', { ...base, gc: { everyHours: 0 } }, /\.mine\.gc\.everyHours must be an integer from 1 to 84/],
    ['gc every 4 days', { ...base, gc: { everyHours: 96 } }, /\.mine\.gc\.everyHours must be an integer from 1 to 84/],
    ['gc grace below the events function\'s event age', { ...base, gc: { grace: '6h' } }, /\.mine\.gc\.grace must be a duration such as 12h or 2d, at least 7 h/],
    ['gc grace not a duration', { ...base, gc: { grace: 'soon' } }, /\.mine\.gc\.grace must be a duration/],
    ['gc untagged not a duration', { ...base, gc: { untagged: 5 } }, /\.mine\.gc\.untagged must be a string/],
    ['gc enabled not a boolean', { ...base, gc: { enabled: 'yes' } }, /\.mine\.gc\.enabled must be true or false/],
    ['proxyMirror with upper case', { ...base, proxyMirror: 'DockerHub' }, /\.mine\.proxyMirror must be a project name \(a-z 0-9, separated by \. _ __ or -\) \(got "DockerHub"\)/],
    ['proxyMirror with a slash (a project is one path component)', { ...base, proxyMirror: 'hub/library' }, /\.mine\.proxyMirror must be a project name/],
    ['proxyMirror empty', { ...base, proxyMirror: '' }, /\.mine\.proxyMirror must be a project name/],
    ['proxyMirror not a string', { ...base, proxyMirror: true }, /\.mine\.proxyMirror must be a string/],
    ['proxyMirror too long', { ...base, proxyMirror: 'a'.repeat(129) }, /\.mine\.proxyMirror must be a project name of at most 128 characters/],
    ['no public key', { region: 'us-east-1' }, /\.mine\.cdnPublicKeyFile is required/],
    ['missing key file', { region: 'us-east-1', cdnPublicKeyFile: 'nope.pem' }, /\.mine\.cdnPublicKeyFile cannot be read/],
    ['not a PEM', { region: 'us-east-1', cdnPublicKey: 'ssh-rsa AAAA' }, /\.mine\.cdnPublicKey must be a PEM "BEGIN PUBLIC KEY" block/],
    ['a private key', { region: 'us-east-1', cdnPublicKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, /\.mine\.cdnPublicKey must be a PEM/],
  ];
  it.each(cases)('%s', (_what, raw, message) => {
    expect(errorOf(raw)).toMatch(message);
  });

  it('a bad environment name', () => {
    expect(errorOf(base, 'Prod_1')).toMatch(/registry:environments\.Prod_1 has a bad name/);
  });

  it('no environments at all', () => {
    expect(() => parseEnvironments(undefined, undefined, ROOT)).toThrow(/registry:environments must be an object of named environments/);
  });
});
