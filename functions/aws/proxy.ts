// The pull-through cache in AWS (docs/proxy.md): proxy projects from the table (cached project reads),
// fetch leases and tag checks on the same table (one conditional write each, shared by every Lambda),
// upstream credentials from Secrets Manager (or start:aws's folder stand-in), read only when a
// project has some and only when a fetch needs them. Fetched blobs stream from the upstream into an
// S3 upload (multipart past 5 MiB) in the Lambda, never through its 6 MB payload; the client gets
// the usual 307 once the bytes are verified and recorded.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoProxyState } from '../adapters/dynamodb/dynamo-proxy-state.ts';
import { FsUpstreamSecrets } from '../adapters/fs/fs-upstream-secrets.ts';
import { SecretsManagerUpstreamSecrets } from '../adapters/secretsmanager/sm-upstream-secrets.ts';
import type { IdentityStore } from '../core/auth/identity-store.ts';
import { PROXY_METRICS, type ProxyDeps, type ProxyEvent } from '../core/proxy/deps.ts';
import type { UpstreamSecrets } from '../core/proxy/model.ts';
import { proxyProjects } from '../core/proxy/projects.ts';
import type { AwsConfig } from './config.ts';

/** A process given no place for credentials (REGISTRY_UPSTREAM_SECRETS_PREFIX unset): a project that has some cannot be fetched for. */
const NO_SECRETS: UpstreamSecrets = {
  get: () => Promise.reject(new Error('no upstream credentials store is configured (REGISTRY_UPSTREAM_SECRETS_PREFIX)')),
  put: () => Promise.reject(new Error('no upstream credentials store is configured')),
  delete: () => Promise.resolve(),
};

let metrics: Metrics | undefined;

/**
 * Where a pull-through event goes in a deployed process: one JSON line on stdout (CloudWatch Logs in a
 * Lambda) with the metric it counts as, a warning for a stale copy served; and that metric, published
 * at once as an EMF document under the service's namespace (ProxyFetched, ProxyRevalidated,
 * ProxyStaleServed in CloudWatch).
 */
export function logProxyEvent(e: ProxyEvent): void {
  const line = JSON.stringify({ level: e.event === 'stale-served' ? 'WARN' : 'INFO', message: `proxy ${e.event}`, metric: PROXY_METRICS[e.event], repository: e.repository, reference: e.reference, ...(e.reason ? { reason: e.reason } : {}) });
  if (e.event === 'stale-served') console.warn(line);
  else console.log(line);
  metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'OciRegistry', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-api' });
  metrics.singleMetric().addMetric(PROXY_METRICS[e.event], MetricUnit.Count, 1);
}

/** How long a Lambda container keeps a project's credentials before it reads the secret again. */
export const CREDENTIALS_CACHE_SECONDS = 300;

/**
 * Reads kept per project for `seconds` (a GetSecretValue costs, and an upstream token flow asks for
 * the credentials on each challenge): credentials changed with the admin CLI apply within that time.
 */
export function cachedReads(inner: UpstreamSecrets, now: () => number, seconds = CREDENTIALS_CACHE_SECONDS): UpstreamSecrets {
  const kept = new Map<string, { at: number; value: ReturnType<UpstreamSecrets['get']> }>();
  return {
    get(project) {
      const hit = kept.get(project);
      if (hit && now() - hit.at < seconds * 1000) return hit.value;
      const value = inner.get(project);
      kept.set(project, { at: now(), value });
      // A failed read is not kept: the next fetch asks again.
      value.catch(() => kept.delete(project));
      return value;
    },
    put: (project, credentials) => inner.put(project, credentials).finally(() => kept.delete(project)),
    delete: (project) => inner.delete(project).finally(() => kept.delete(project)),
  };
}

export function upstreamSecrets(config: AwsConfig, secretsClient: () => SecretsManagerClient, now: () => number = Date.now): UpstreamSecrets {
  const where = config.proxy.secrets;
  if (!where) return NO_SECRETS;
  // FsUpstreamSecrets keeps `<dir>/upstream-credentials/<project>.json`: the folder given is its data dir.
  return cachedReads('prefix' in where ? new SecretsManagerUpstreamSecrets(secretsClient(), where.prefix) : new FsUpstreamSecrets(where.dir), now);
}

/**
 * The proxy deps of a process that serves reads: undefined in a replica region (it may not write the
 * table, so it serves what the primary cached and fetches nothing; its writes are refused anyway).
 */
export function awsProxy(config: AwsConfig, identity: IdentityStore, doc: DynamoDBDocumentClient, secretsClient: () => SecretsManagerClient, report: (e: ProxyEvent) => void = logProxyEvent): ProxyDeps | undefined {
  if (config.primaryRegion !== undefined && config.primaryRegion !== config.region) return undefined;
  const { proxy } = config;
  return {
    ...proxyProjects(identity, upstreamSecrets(config, secretsClient), { fetchSeconds: proxy.fetchSeconds }),
    state: new DynamoProxyState(doc, config.tableName),
    settings: { leaseSeconds: proxy.leaseSeconds, waitSeconds: proxy.waitSeconds, pollMs: 250 },
    report,
    ...(proxy.mirror ? { mirror: proxy.mirror } : {}),
  };
}
