// The environment contract (functions/aws/env-contract.ts) held against both sides: what the CDK
// app sets on each deployed process, read back from the synthesized templates of every environment,
// and what the runtime reads. Every variable set is in the contract for that process and is read;
// every variable the runtime reads is in the contract; every variable without a default that infra
// must set is set on every instance of every process that reads it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { readGcConfig } from '../../functions/aws/gc-deps.ts';
import { readRotationConfig } from '../../functions/aws/token-key-rotation.ts';
import { RUNTIME_ENV, type RuntimeEnvName, type RuntimeProcess, type RuntimeVariable } from '../../functions/aws/env-contract.ts';
import { readIngestSettings } from '../../functions/apps/ingest/settings.ts';
import { ROOT, SYNTH_TIMEOUT_MS, synthesizeAll } from './synth.ts';
import type { Json, Synthesized } from './synth.ts';

let s: Synthesized;
beforeAll(() => {
  s = synthesizeAll();
}, SYNTH_TIMEOUT_MS);
afterAll(() => s?.cleanup());

const contract: Record<string, RuntimeVariable> = RUNTIME_ENV;
/** Set by the CDK app and read by Powertools itself, not by the registry's code. */
const READ_BY_POWERTOOLS = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE'];

interface Deployed {
  where: string;
  process: RuntimeProcess;
  env: Record<string, unknown>;
}

/** Every deployed process of every environment, with the environment its template gives it. */
function deployedProcesses(): Deployed[] {
  const out: Deployed[] = [];
  for (const stack of s.assembly.stacks) {
    for (const [id, r] of Object.entries(stack.template.Resources as Record<string, Json>)) {
      const where = `${stack.stackName}/${id}`;
      if (r.Type === 'AWS::Lambda::Function' && r.Properties.Environment) {
        const env = r.Properties.Environment.Variables as Record<string, unknown>;
        if ('KVS_ARN' in env) out.push({ where, process: 'upload-keys', env });
        else if (/-Keys$/.test(stack.stackName)) out.push({ where, process: 'token-key-rotation', env });
        else if (/-Api$|-Api-/.test(stack.stackName)) out.push({ where, process: 'api', env });
        else if (/-Events/.test(stack.stackName)) out.push({ where, process: 'events', env });
        else if (/-Gc$/.test(stack.stackName)) out.push({ where, process: 'gc', env });
      }
      if (r.Type === 'AWS::ECS::TaskDefinition') {
        const env = Object.fromEntries(r.Properties.ContainerDefinitions[0].Environment.map((e: Json) => [e.Name, e.Value]));
        out.push({ where, process: 'ingest', env });
      }
    }
  }
  return out;
}

/** The names a reader asks its environment for, with every contract variable given a plausible value. */
function namesRead(read: (env: Record<string, string>) => unknown): Set<string> {
  const asked = new Set<string>();
  const values: Record<string, string> = { TABLE_NAME: 't', BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'arn:k', CDN_URL: 'https://x', CDN_KEY_PAIR_ID: 'K', CDN_PRIVATE_KEY_SECRET_ARN: 'arn:c' };
  const env = new Proxy(values, {
    get: (target, name) => {
      if (typeof name === 'string') asked.add(name);
      return target[name as string];
    },
  });
  read(env);
  return asked;
}

/** `process.env.NAME`, `process.env['NAME']` and `env.NAME` of a handler's own env, in the code of an app. */
function staticReads(dir: string): Set<string> {
  const found = new Set<string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const text = readFileSync(join(e.parentPath, e.name), 'utf8');
    for (const m of text.matchAll(/\b(?:process\.)?env(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g)) found.add(m[1] ?? m[2]!);
    for (const m of text.matchAll(/\bconst \{([^}]+)\} = process\.env/g)) {
      for (const part of m[1]!.split(',')) found.add(part.split(':')[0]!.trim());
    }
  }
  return found;
}

const readsOf: Record<RuntimeProcess, () => Set<string>> = {
  api: () => new Set([...namesRead((env) => readAwsConfig(env)), ...staticReads(join(ROOT, 'functions/apps/api-lambda'))]),
  events: () => new Set([...namesRead((env) => readAwsConfig(env)), ...staticReads(join(ROOT, 'functions/apps/events-lambda'))]),
  ingest: () => new Set([...namesRead((env) => readAwsConfig(env)), ...namesRead((env) => readIngestSettings(env)), ...staticReads(join(ROOT, 'functions/apps/ingest'))]),
  'upload-keys': () => staticReads(join(ROOT, 'functions/apps/upload-keys-lambda')),
  gc: () => new Set([...namesRead((env) => readGcConfig(env)), ...staticReads(join(ROOT, 'functions/apps/gc-lambda'))]),
  'token-key-rotation': () => new Set([...namesRead((env) => readRotationConfig(env)), ...staticReads(join(ROOT, 'functions/apps/token-key-rotation-lambda'))]),
};

describe('the environment contract', () => {
  it('finds every kind of deployed process in the templates', () => {
    const kinds = new Set(deployedProcesses().map((p) => p.process));
    expect([...kinds].sort()).toEqual(['api', 'events', 'gc', 'ingest', 'token-key-rotation', 'upload-keys']);
  });

  it('every variable the CDK app sets is in the contract for that process, and not one only local runs set', () => {
    for (const p of deployedProcesses()) {
      for (const name of Object.keys(p.env)) {
        const v = contract[name];
        expect(v, `${p.where} sets ${name}, which the contract does not name`).toBeDefined();
        expect(v!.processes, `${p.where} sets ${name}, which ${p.process} does not read`).toContain(p.process);
        expect(v!.setBy, `${p.where} sets ${name}, which only local runs set`).not.toBe('local');
      }
    }
  });

  it('every variable infra must set (no default) is set on every instance of every process that reads it', () => {
    for (const p of deployedProcesses()) {
      for (const [name, v] of Object.entries(contract)) {
        if (v.setBy !== 'infra' || v.default !== undefined || !v.processes.includes(p.process)) continue;
        expect(Object.keys(p.env), `${p.where} lacks ${name}`).toContain(name);
      }
    }
  });

  it('every variable the runtime reads is in the contract for that process', () => {
    for (const process of Object.keys(readsOf) as RuntimeProcess[]) {
      for (const name of readsOf[process]()) {
        expect(contract[name]?.processes ?? [], `${process} reads ${name}, which the contract does not list for it`).toContain(process);
      }
    }
  });

  it('every contract variable is read by each process it names (Powertools reads its own)', () => {
    for (const [name, v] of Object.entries(contract)) {
      if (READ_BY_POWERTOOLS.includes(name)) continue;
      for (const process of v.processes) expect([...readsOf[process]()], `${process} never reads ${name}`).toContain(name);
    }
  });

  it('every API, events and ingest process gets an environment readAwsConfig accepts', () => {
    for (const p of deployedProcesses().filter((d) => d.process !== 'upload-keys' && d.process !== 'gc' && d.process !== 'token-key-rotation')) {
      // Tokens (Ref, GetAtt, GetStackOutput) resolve at deploy time; any non-empty string stands in.
      const env = Object.fromEntries(Object.entries(p.env).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]));
      const config = readAwsConfig({ ...env, AWS_REGION: 'us-east-1' });
      expect(config.keys, p.where).toEqual({ secretArn: 'resolved-KEYS_SECRET_ARN' });
      expect(config.localOpen, p.where).toBe(false);
      // Token auth where requests are served (the events Lambda serves none), in every environment:
      // the realm from the domain, or per request from CloudFront's host (functions/aws/public-url.ts).
      if (p.process === 'events') continue;
      expect(config.auth, p.where).toMatchObject({ tokenKeys: { secretArn: 'resolved-TOKEN_KEYS_SECRET_ARN' } });
      expect(config.auth!.url ?? `service ${config.auth!.service}`, p.where).toMatch(/^https:\/\/registry(\.staging)?\.example\.com$|^service oci-registry-dev$/);
      expect(config.tableName, p.where).toMatch(/^oci-registry-(dev|staging|prod)$/);
    }
  });

  it('every GC process gets an environment readGcConfig accepts, with the grace of its cdk.json', () => {
    const gcs = deployedProcesses().filter((d) => d.process === 'gc');
    expect(gcs.map((p) => p.where.split('/')[0]).sort()).toEqual(['OciRegistry-dev-Gc', 'OciRegistry-prod-Gc', 'OciRegistry-staging-Gc']);
    for (const p of gcs) {
      const env = Object.fromEntries(Object.entries(p.env).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]));
      const config = readGcConfig(env);
      expect(config.graceMs, p.where).toBe(12 * 3_600_000);
      expect(config.untaggedMs, p.where).toBe(86_400_000);
      expect(config.tableName, p.where).toMatch(/^oci-registry-(dev|staging|prod)$/);
    }
  });

  it('a documented default is what the runtime uses when the variable is unset', () => {
    const base = { TABLE_NAME: 't', BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'a' };
    const config = readAwsConfig(base);
    const ingest = readIngestSettings({});
    const defaults: Partial<Record<RuntimeEnvName, unknown>> = {
      REGISTRY_LOCAL_OPEN: config.localOpen ? 'on' : 'off',
      REGISTRY_UPLOAD_TTL_SECONDS: String(config.uploadTtlSeconds),
      S3_FORCE_PATH_STYLE: String(config.s3ForcePathStyle),
      PORT: String(ingest.port),
      HOST: ingest.host,
      REGISTRY_IDLE_TIMEOUT_SECONDS: String(ingest.idleTimeoutSeconds),
      REGISTRY_CALL_COUNTS: ingest.callCounts ? 'on' : 'off',
    };
    for (const [name, value] of Object.entries(defaults)) expect(contract[name]!.default, name).toBe(value);
    // The rotation keeps a retired token key as long as the API lets its refresh tokens live, and a day.
    expect(readRotationConfig({}).keepPreviousMs).toBe((config.auth?.refreshTokenSeconds ?? Number(contract.REGISTRY_REFRESH_TOKEN_DAYS!.default) * 86_400) * 1000 + 86_400_000);
    expect(config.cdn).toBeUndefined();
  });
});
