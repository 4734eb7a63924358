// Where `npm run admin` works: the data dir of `npm start` (SQLite, as the server), or with
// `--aws --env <name>` the DynamoDB table of that deployment, in the region cdk.json gives it
// (credentials from the AWS SDK's usual chain: AWS_PROFILE, SSO, environment variables).
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { distributionComment, purgeDistribution } from '../../adapters/cloudfront/cloudfront-cache.ts';
import { DynamoIdentityStore } from '../../adapters/dynamodb/dynamo-identity.ts';
import { IDENTITY_DB, SqliteIdentityStore } from '../../adapters/sqlite/sqlite-identity.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-metadata.ts';
import { DynamoMetadataStore } from '../../adapters/dynamodb/dynamo-metadata.ts';
import type { ProjectUsage } from '../../core/quota-ports.ts';
import type { IdentityStore } from '../../core/auth/identity-store.ts';
import type { AuditLog } from '../../core/audit.ts';
import { DynamoAuditLog } from '../../adapters/dynamodb/dynamo-audit.ts';
import { AUDIT_DB, SqliteAuditLog } from '../../adapters/sqlite/sqlite-audit.ts';
import { UsageError } from './commands.ts';
import { FsUpstreamSecrets } from '../../adapters/fs/fs-upstream-secrets.ts';
import type { UpstreamSecrets } from '../../core/proxy/model.ts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerUpstreamSecrets, upstreamSecretPrefix } from '../../adapters/secretsmanager/sm-upstream-secrets.ts';

export interface OpenStore {
  store: IdentityStore;
  /** The audit trail of the same place (audit.db in the data dir, or the table). */
  audit: AuditLog;
  /** Proxy projects' upstream credentials: the data dir, or with --aws Secrets Manager (oci-registry/<env>/upstream/<project>). */
  secrets: UpstreamSecrets;
  /** With --aws: purges paths from the environment's CloudFront distribution. */
  purgeCdn?: (paths: readonly string[]) => Promise<string>;
  /** A project's storage usage, from the registry's metadata (opened on first use). */
  usage: (project: string) => Promise<ProjectUsage>;
  /** Where it is, for the one line the CLI prints to stderr. */
  where: string;
  close(): void;
}

/** A deployment's table and region: `oci-registry-<env>` (infra/names.ts), the region from cdk.json. */
export function awsTarget(projectDir: string, env: string, region?: string): { table: string; region: string } {
  if (!/^[a-z0-9-]{2,16}$/.test(env)) throw new UsageError(`--env ${JSON.stringify(env)} is not an environment name`);
  let environments: Record<string, { region?: unknown }>;
  try {
    const cdk = JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
    environments = (cdk.context?.['registry:environments'] ?? {}) as Record<string, { region?: unknown }>;
  } catch (e) {
    throw new UsageError(`cannot read cdk.json: ${(e as Error).message}`);
  }
  const found = environments[env];
  if (!found) throw new UsageError(`cdk.json names no environment ${JSON.stringify(env)} (known: ${Object.keys(environments).join(', ')})`);
  const r = region ?? (typeof found.region === 'string' ? found.region : undefined);
  if (!r) throw new UsageError(`environment ${env} has no region in cdk.json: pass --region`);
  return { table: `oci-registry-${env}`, region: r };
}

export function openStore(projectDir: string, options: { aws?: boolean; env?: string; region?: string }): OpenStore {
  if (options.aws) {
    if (!options.env) throw new UsageError('--aws needs --env <name> (an environment of cdk.json)');
    const env = options.env;
    const { table, region } = awsTarget(projectDir, env, options.region);
    const client = new DynamoDBClient({ region });
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    // CloudFront's API is global (us-east-1); the distribution is found by the comment the CDK app gives it.
    const cloudfront = new CloudFrontClient({ region: 'us-east-1' });
    // Proxy projects' upstream credentials: the secrets the environment's API may read (infra/names.ts).
    const secretsManager = new SecretsManagerClient({ region });
    const metadata = new DynamoMetadataStore({ client, tableName: table });
    return {
      store: new DynamoIdentityStore(doc, table),
      usage: (project) => metadata.projectUsage(project),
      audit: new DynamoAuditLog(doc, table),
      secrets: new SecretsManagerUpstreamSecrets(secretsManager, upstreamSecretPrefix(env)),
      purgeCdn: (paths) => purgeDistribution(cloudfront, distributionComment(env), paths),
      where: `table ${table} in ${region}`,
      close: () => {
        client.destroy();
        cloudfront.destroy();
        secretsManager.destroy();
      },
    };
  }
  if (options.env !== undefined || options.region !== undefined) throw new UsageError('--env and --region go with --aws');
  const dataDir = resolve(process.env.REGISTRY_DATA_DIR || join(projectDir, 'data'));
  mkdirSync(dataDir, { recursive: true });
  const store = new SqliteIdentityStore(join(dataDir, IDENTITY_DB));
  const audit = new SqliteAuditLog(join(dataDir, AUDIT_DB));
  let metadata: SqliteMetadataStore | undefined;
  return {
    store, audit, secrets: new FsUpstreamSecrets(dataDir), where: dataDir,
    // The registry's own database, as `npm start` and `npm run gc` open it (WAL: safe while it serves).
    usage: (project) => (metadata ??= new SqliteMetadataStore(join(dataDir, 'registry.db'))).projectUsage(project),
    close: () => {
      store.close();
      audit.close();
      metadata?.close();
    },
  };
}
