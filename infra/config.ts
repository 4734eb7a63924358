// Environment configuration: read from the CDK context key `registry:environments` (cdk.json),
// validated field by field. A bad value fails synth with a message naming the field.
import { ConfigError } from '../functions/config/config-error.ts';
import { parseDuration } from '../functions/config/duration.ts';
import { PROJECT_NAME } from '../functions/config/proxy-settings.ts';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export const ENVIRONMENTS_CONTEXT_KEY = 'registry:environments';

export type PriceClass = '100' | '200' | 'All';

export interface DomainConfig {
  /** Fully qualified name the registry is served on, e.g. registry.example.com. */
  readonly name: string;
  /** Route 53 hosted zone: the certificate is DNS-validated in it and an alias record is created. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
  /** ACM certificate in us-east-1, used when no hosted zone is given. */
  readonly certificateArn?: string;
}

export interface AlarmConfig {
  readonly email?: string;
  /** An existing SNS topic; alarms in the topic's own region also notify it. */
  readonly topicArn?: string;
}

export interface EnvironmentConfig {
  readonly name: string;
  readonly account?: string;
  readonly region: string;
  readonly replicaRegions: readonly string[];
  readonly domain?: DomainConfig;
  readonly ingest: boolean;
  /** The edge fast path (monolithic PUTs straight into S3 through OAC); off sends them to ingest or the API. */
  readonly edgeUploads: boolean;
  readonly alarms: AlarmConfig;
  /** Deletion protection on the table and RETAIN on table, buckets and secrets. */
  readonly retain: boolean;
  readonly throwaway: boolean;
  readonly priceClass: PriceClass;
  /** PEM of the CloudFront public key whose private half signs blob URLs. */
  readonly cdnPublicKeyPem: string;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly ingestScaling: { readonly minTasks: number; readonly maxTasks: number };
  readonly gc: GcConfig;
  /** The proxy project dockerd's `registry-mirrors` paths map into (docs/proxy.md); undefined: none. */
  readonly proxyMirror?: string;
}

/** Garbage collection (docs/gc.md): a run every `everyHours`, collecting nothing younger than `grace`. */
export interface GcConfig {
  /** The schedule on; off leaves the state machine to be started by hand. */
  readonly enabled: boolean;
  /** Hours between runs (the "not completed" alarm looks at two of them: at most 84, CloudWatch's 7 days). */
  readonly everyHours: number;
  /** Milliseconds: nothing written more recently is collected. At least 7 h (events arrive up to 6 h late). */
  readonly graceMs: number;
  /** Milliseconds: untagged manifests younger than this are kept. */
  readonly untaggedMs: number;
}

/** The events function's maximum event age plus an hour: an edge upload is recorded before GC may take its bytes. */
export const MIN_GC_GRACE_MS = 7 * 3_600_000;
export const GC_CONFIG_DEFAULTS = { enabled: true, everyHours: 24, grace: '12h', untagged: '1d' } as const;

// The registry's one ConfigError (app.ts prints its message alone).
export { ConfigError };

/** A ConfigError naming the field of cdk.json's environment that is wrong. */
export function fieldError(field: string, message: string): ConfigError {
  return new ConfigError(`Invalid configuration: ${field} ${message}`);
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const ENV_NAME = /^[a-z][a-z0-9-]{0,14}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/;
const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const KNOWN_FIELDS = new Set([
  'account', 'region', 'replicaRegions', 'domain', 'ingest', 'edgeUploads', 'alarms', 'retain', 'access', 'throwaway',
  'priceClass', 'cdnPublicKey', 'cdnPublicKeyFile', 'throttle', 'ingestScaling', 'description', 'gc',
  'proxyMirror',
]);
const GC_FIELDS = new Set(['enabled', 'everyHours', 'grace', 'untagged']);

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(raw: Raw, key: string, field: string, pattern?: RegExp, what?: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fieldError(`${field}.${key}`, 'must be a string');
  if (pattern && !pattern.test(v)) throw fieldError(`${field}.${key}`, `must be ${what ?? pattern.source} (got "${v}")`);
  return v;
}

function bool(raw: Raw, key: string, field: string, fallback: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw fieldError(`${field}.${key}`, 'must be true or false');
  return v;
}

function int(raw: Raw, key: string, field: string, fallback: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw fieldError(`${field}.${key}`, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function parseDomain(raw: unknown, field: string): DomainConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw fieldError(field, 'must be an object with name and hostedZone or certificateArn');
  const name = str(raw, 'name', field, DOMAIN, 'a lower-case DNS name');
  if (!name) throw fieldError(`${field}.name`, 'is required');
  const certificateArn = str(raw, 'certificateArn', field, ACM_ARN, 'an ACM certificate ARN in us-east-1');
  let hostedZone: DomainConfig['hostedZone'];
  if (raw.hostedZone !== undefined) {
    const zf = `${field}.hostedZone`;
    if (!isObject(raw.hostedZone)) throw fieldError(zf, 'must be an object with id and name');
    const id = str(raw.hostedZone, 'id', zf, ZONE_ID, 'a Route 53 hosted zone id (Z...)');
    const zoneName = str(raw.hostedZone, 'name', zf, DOMAIN, 'a lower-case DNS name');
    if (!id) throw fieldError(`${zf}.id`, 'is required');
    if (!zoneName) throw fieldError(`${zf}.name`, 'is required');
    if (name !== zoneName && !name.endsWith(`.${zoneName}`)) {
      throw fieldError(`${zf}.name`, `must be ${name} or a parent domain of it (got "${zoneName}")`);
    }
    hostedZone = { id, name: zoneName };
  }
  if (!hostedZone && !certificateArn) {
    throw fieldError(field, 'needs hostedZone (certificate created) or certificateArn (certificate imported)');
  }
  return { name, ...(hostedZone ? { hostedZone } : {}), ...(certificateArn ? { certificateArn } : {}) };
}

function parseAlarms(raw: unknown, field: string): AlarmConfig {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw fieldError(field, 'must be an object with email and/or topicArn');
  const email = str(raw, 'email', field, EMAIL, 'an e-mail address');
  const topicArn = str(raw, 'topicArn', field, SNS_ARN, 'an SNS topic ARN');
  return { ...(email ? { email } : {}), ...(topicArn ? { topicArn } : {}) };
}

function readPublicKey(raw: Raw, field: string, baseDir: string): string {
  const inline = str(raw, 'cdnPublicKey', field);
  const file = str(raw, 'cdnPublicKeyFile', field);
  if (inline && file) throw fieldError(field, 'takes cdnPublicKey or cdnPublicKeyFile, not both');
  let pem: string;
  if (inline) {
    pem = inline;
  } else if (file) {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      pem = readFileSync(path, 'utf8');
    } catch {
      throw fieldError(`${field}.cdnPublicKeyFile`, `cannot be read (${file})`);
    }
  } else {
    throw fieldError(`${field}.cdnPublicKeyFile`, 'is required (or cdnPublicKey): the public key CloudFront checks blob URL signatures with');
  }
  const key = pem.trim();
  const f = inline ? `${field}.cdnPublicKey` : `${field}.cdnPublicKeyFile`;
  if (!/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$/.test(key)) {
    throw fieldError(f, 'must be a PEM "BEGIN PUBLIC KEY" block (RSA 2048 or ECDSA P-256)');
  }
  if (/PRIVATE KEY/.test(pem)) throw fieldError(f, 'must hold the public key only, never the private key');
  return `${key}\n`;
}

function duration(raw: Raw, key: string, field: string, fallback: string, minMs: number): number {
  const text = str(raw, key, field) ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < minMs) throw fieldError(`${field}.${key}`, `must be a duration such as 12h or 2d, at least ${minMs / 3_600_000} h (got "${text}")`);
  return ms;
}

function parseGc(raw: unknown, field: string): GcConfig {
  if (raw === undefined) raw = {};
  if (!isObject(raw)) throw fieldError(field, 'must be an object with enabled, everyHours, grace and untagged');
  for (const key of Object.keys(raw)) if (!GC_FIELDS.has(key)) throw fieldError(`${field}.${key}`, `is not a known field (known: ${[...GC_FIELDS].join(', ')})`);
  return {
    enabled: bool(raw, 'enabled', field, GC_CONFIG_DEFAULTS.enabled),
    everyHours: int(raw, 'everyHours', field, GC_CONFIG_DEFAULTS.everyHours, 1, 84),
    graceMs: duration(raw, 'grace', field, GC_CONFIG_DEFAULTS.grace, MIN_GC_GRACE_MS),
    untaggedMs: duration(raw, 'untagged', field, GC_CONFIG_DEFAULTS.untagged, 0),
  };
}

export function parseEnvironment(name: string, raw: unknown, baseDir: string): EnvironmentConfig {
  const field = `${ENVIRONMENTS_CONTEXT_KEY}.${name}`;
  if (!ENV_NAME.test(name)) throw fieldError(field, 'has a bad name: use 2-16 characters a-z, 0-9 and -');
  if (!isObject(raw)) throw fieldError(field, 'must be an object');
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) throw fieldError(`${field}.${key}`, `is not a known field (known: ${[...KNOWN_FIELDS].join(', ')})`);
  }
  const account = str(raw, 'account', field, ACCOUNT, 'a 12-digit AWS account id');
  const region = str(raw, 'region', field, REGION, 'an AWS region name such as us-east-1');
  if (!region) throw fieldError(`${field}.region`, 'is required');

  const rr = raw.replicaRegions ?? [];
  if (!Array.isArray(rr)) throw fieldError(`${field}.replicaRegions`, 'must be a list of region names');
  const replicaRegions = rr.map((r, i) => {
    if (typeof r !== 'string' || !REGION.test(r)) throw fieldError(`${field}.replicaRegions[${i}]`, `must be an AWS region name (got ${JSON.stringify(r)})`);
    if (r === region) throw fieldError(`${field}.replicaRegions[${i}]`, `must differ from the primary region ${region}`);
    return r;
  });
  if (new Set(replicaRegions).size !== replicaRegions.length) throw fieldError(`${field}.replicaRegions`, 'lists a region twice');

  const throwaway = bool(raw, 'throwaway', field, false);
  if (raw.access !== undefined) {
    throw fieldError(`${field}.access`, 'is gone: every environment has token authentication on (its first admin: npm run admin -- user add <name> --admin --aws --env <env>, docs/auth.md)');
  }
  const retain = bool(raw, 'retain', field, false);
  if (retain && throwaway) throw fieldError(`${field}.retain`, 'cannot be true in a throwaway environment');

  const throttleRaw = raw.throttle ?? {};
  if (!isObject(throttleRaw)) throw fieldError(`${field}.throttle`, 'must be an object with rateLimit and burstLimit');
  const scalingRaw = raw.ingestScaling ?? {};
  if (!isObject(scalingRaw)) throw fieldError(`${field}.ingestScaling`, 'must be an object with minTasks and maxTasks');
  const ingestScaling = {
    minTasks: int(scalingRaw, 'minTasks', `${field}.ingestScaling`, 1, 1, 100),
    maxTasks: int(scalingRaw, 'maxTasks', `${field}.ingestScaling`, 4, 1, 100),
  };
  if (ingestScaling.maxTasks < ingestScaling.minTasks) throw fieldError(`${field}.ingestScaling.maxTasks`, 'must be at least minTasks');

  if (replicaRegions.length > 0 && raw.domain === undefined) {
    // Blob GETs redirect to CloudFront signed URLs only with a domain known before the distribution
    // exists (CDN_URL); without one, a replica's S3 presigned URL would 404 a blob still replicating.
    throw fieldError(`${field}.replicaRegions`, 'need a domain: pulls reach the nearest region through CloudFront, which falls back to the primary bucket while replication catches up');
  }
  const proxyMirror = str(raw, 'proxyMirror', field, PROJECT_NAME, 'a project name (a-z 0-9, separated by . _ __ or -)');
  if (proxyMirror !== undefined && proxyMirror.length > 128) throw fieldError(`${field}.proxyMirror`, 'must be a project name of at most 128 characters');
  return {
    name,
    ...(account ? { account } : {}),
    region,
    replicaRegions,
    ...(raw.domain !== undefined ? { domain: parseDomain(raw.domain, `${field}.domain`) } : {}),
    ingest: bool(raw, 'ingest', field, true),
    edgeUploads: bool(raw, 'edgeUploads', field, true),
    alarms: parseAlarms(raw.alarms, `${field}.alarms`),
    retain,
    throwaway,
    priceClass: (str(raw, 'priceClass', field, /^(100|200|All)$/, '"100", "200" or "All"') ?? '100') as PriceClass,
    cdnPublicKeyPem: readPublicKey(raw, field, baseDir),
    throttle: {
      rateLimit: int(throttleRaw, 'rateLimit', `${field}.throttle`, 500, 1, 100000),
      burstLimit: int(throttleRaw, 'burstLimit', `${field}.throttle`, 1000, 1, 100000),
    },
    ingestScaling,
    gc: parseGc(raw.gc, `${field}.gc`),
    ...(proxyMirror !== undefined ? { proxyMirror } : {}),
  };
}

/** All environments of the context value, or the one named by `-c env=<name>`. */
export function parseEnvironments(raw: unknown, selected: string | undefined, baseDir: string): EnvironmentConfig[] {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    throw fieldError(ENVIRONMENTS_CONTEXT_KEY, 'must be an object of named environments in cdk.json "context"');
  }
  if (selected !== undefined) {
    if (!(selected in raw)) {
      throw fieldError('env', `names no environment in ${ENVIRONMENTS_CONTEXT_KEY} (got "${selected}"; known: ${Object.keys(raw).join(', ')})`);
    }
    return [parseEnvironment(selected, raw[selected], baseDir)];
  }
  return Object.entries(raw).map(([name, value]) => parseEnvironment(name, value, baseDir));
}
