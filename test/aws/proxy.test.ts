// The pull-through cache's AWS wiring: where upstream credentials are read from (Secrets Manager in a
// deployment: test/infra/secrets-vs-calls.test.ts; a folder under start:aws; nowhere: refused with
// the setting named), kept 5 min per project, its settings, and
// none in a replica region (it may not write the table: it serves what the primary cached).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { awsProxy, cachedReads, CREDENTIALS_CACHE_SECONDS, logProxyEvent, upstreamSecrets } from '../../functions/aws/proxy.ts';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';

const base = { TABLE_NAME: 't', BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'arn:k', AWS_REGION: 'us-east-1' };
const dynamo = new DynamoDBClient({ region: 'us-east-1' });
const doc = DynamoDBDocumentClient.from(dynamo);
const sm = new SecretsManagerClient({ region: 'us-east-1' });
afterAll(() => {
  dynamo.destroy();
  sm.destroy();
});

describe('awsProxy', () => {
  it('upstream credentials: Secrets Manager under the prefix, a folder, or none (refused, naming the setting)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-proxy-'));
    try {
      const fromDir = upstreamSecrets(readAwsConfig({ ...base, REGISTRY_UPSTREAM_SECRETS_DIR: dir }), () => sm);
      await fromDir.put('hub', { username: 'u', password: 'p' });
      expect(await fromDir.get('hub')).toEqual({ username: 'u', password: 'p' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const none = upstreamSecrets(readAwsConfig(base), () => {
      throw new Error('no client is made without a prefix');
    });
    await expect(none.get('hub')).rejects.toThrow(/REGISTRY_UPSTREAM_SECRETS_PREFIX/);
    await expect(none.put('hub', { username: 'u', password: 'p' })).rejects.toThrow(/no upstream credentials store/);
    await expect(none.delete('hub')).resolves.toBeUndefined();
  });

  it('credentials are read once per project and kept 5 min; a failed read is not kept; put and delete forget them', async () => {
    let t = 0;
    const reads: string[] = [];
    let fail = false;
    const inner = {
      get: async (p: string) => {
        reads.push(p);
        if (fail) throw new Error('ThrottlingException');
        return { username: p, password: 'x' };
      },
      put: async () => undefined,
      delete: async () => undefined,
    };
    const kept = cachedReads(inner, () => t);
    expect(await kept.get('a')).toEqual({ username: 'a', password: 'x' });
    await kept.get('a');
    await kept.get('b');
    expect(reads).toEqual(['a', 'b']);
    t = CREDENTIALS_CACHE_SECONDS * 1000;
    await kept.get('a');
    expect(reads).toEqual(['a', 'b', 'a']);
    await kept.put('a', { username: 'a', password: 'y' });
    await kept.get('a');
    await kept.delete('b');
    await kept.get('b');
    expect(reads).toEqual(['a', 'b', 'a', 'a', 'b']);
    fail = true;
    t += CREDENTIALS_CACHE_SECONDS * 1000;
    await expect(kept.get('a')).rejects.toThrow('ThrottlingException');
    fail = false;
    expect(await kept.get('a')).toEqual({ username: 'a', password: 'x' });
    expect(reads.slice(-2)).toEqual(['a', 'a']);
  });

  it('the settings of the environment; none in a replica region', () => {
    const identity = {} as IdentityStore;
    const proxy = awsProxy(readAwsConfig({ ...base, REGISTRY_PROXY_MIRROR: 'hub' }), identity, doc, () => sm)!;
    expect(proxy.settings).toEqual({ leaseSeconds: 60, waitSeconds: 20, pollMs: 250 });
    expect(proxy.mirror).toBe('hub');
    expect(awsProxy(readAwsConfig({ ...base, REGISTRY_PRIMARY_REGION: 'us-east-1' }), identity, doc, () => sm)).toBeDefined();
    expect(awsProxy(readAwsConfig({ ...base, AWS_REGION: 'eu-west-1', REGISTRY_PRIMARY_REGION: 'us-east-1' }), identity, doc, () => sm)).toBeUndefined();
  });
});

describe('logProxyEvent (the default reporter of a deployed process)', () => {
  it('one JSON line per event with the metric it counts as, a stale copy served a warning; and the metric as an EMF document', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      logProxyEvent({ event: 'fetched', repository: 'hub/library/alpine', reference: 'sha256:ab' });
      logProxyEvent({ event: 'stale-served', repository: 'hub/library/alpine', reference: '3', reason: 'upstream 503' });
      expect(JSON.parse(out.mock.calls[0]![0] as string)).toEqual({ level: 'INFO', message: 'proxy fetched', metric: 'ProxyFetched', repository: 'hub/library/alpine', reference: 'sha256:ab' });
      expect(JSON.parse(warn.mock.calls[0]![0] as string)).toEqual({ level: 'WARN', message: 'proxy stale-served', metric: 'ProxyStaleServed', repository: 'hub/library/alpine', reference: '3', reason: 'upstream 503' });
      const emf = [...out.mock.calls, ...stdout.mock.calls].map((c) => String(c[0])).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(emf.map((d) => [d.ProxyFetched, d.ProxyStaleServed])).toEqual([[1, undefined], [undefined, 1]]);
    } finally {
      out.mockRestore();
      warn.mockRestore();
      stdout.mockRestore();
    }
  });
});
