// The registry wired to AWS: DynamoDB metadata, S3 blobs, keys from Secrets Manager. Built once per
// Lambda container or ingest task and reused across requests.
import { publicProjects } from '../core/auth/public-projects.ts';
import { projectTagRules } from '../core/tag-immutability.ts';
import { projectQuotas } from '../core/quota.ts';
import { regionalApi } from './regional-api.ts';
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { originGuard } from './origin-guard.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { allowAll, closedRegistry } from '../core/access.ts';
import { edgeRealm } from './public-url.ts';
import type { BlobStore, MetadataStore } from '../core/ports.ts';
import { createRegistry, type Registry, type RegistryOptions } from '../core/registry.ts';
import { TokenSigner } from '../core/tokens.ts';
import { DynamoMetadataStore } from '../adapters/dynamodb/dynamo-metadata.ts';
import { S3ManifestBodyStore } from '../adapters/s3/manifest-bodies.ts';
import { S3BlobStore } from '../adapters/s3/s3-blob-store.ts';
import { makeS3Client } from '../adapters/s3/s3-client.ts';
import { CloudFrontUrls } from '../adapters/s3/cloudfront-urls.ts';
import type { UrlSigner } from '../adapters/s3/url-signer.ts';
import type { AwsConfig } from './config.ts';
import { nameCommandsInErrors } from './permission-errors.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../adapters/dynamodb/dynamo-identity.ts';
import type { IdentityStore } from '../core/auth/identity-store.ts';
import { TokenService } from '../core/auth/jwt.ts';
import type { LoginThrottle } from '../core/auth/login-throttle.ts';
import { DynamoLoginThrottle } from '../adapters/dynamodb/dynamo-login-throttle.ts';
import { TokenAuthorizer } from '../core/auth/token-authorizer.ts';
import { tokenKeysFrom } from '../core/auth/token-keys.ts';
import { RereadTokenKeys } from '../core/auth/token-key-source.ts';
import { githubActionsVerifier } from '../adapters/oidc/discovered-keys.ts';
import { loadSigningKeys, parseSigningKeys, type SigningKeys } from './signing-keys.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AuditLog } from '../core/audit.ts';
import { DynamoAuditLog } from '../adapters/dynamodb/dynamo-audit.ts';
import { awsAuditRecorder } from './audit.ts';
import type { ProxyDeps, ProxyEvent } from '../core/proxy/deps.ts';
import { awsProxy } from './proxy.ts';

let secrets: SecretsManagerClient | undefined;
const secretsClient = (config: AwsConfig): SecretsManagerClient => (secrets ??= new SecretsManagerClient({ region: config.region }));

export interface AwsDeps {
  config: AwsConfig;
  dynamo: DynamoDBClient;
  s3: S3Client;
  metadata: MetadataStore;
  blobs: BlobStore;
  keys: SigningKeys;
  /** Users, projects, robots (the same table). */
  identity: IdentityStore;
  /** With token authentication: the signer/verifier of registry tokens. */
  tokens?: TokenService;
  /** The origin-verify values CloudFront may send (the API Lambda); empty: no guard. */
  originSecrets: string[];
  /** Failed logins, counted in the table (every container and region alike). */
  loginThrottle: LoginThrottle;
  /** The audit trail's entries (the same table). */
  audit: AuditLog;
  /** The pull-through cache (proxy projects); undefined in a replica region. */
  proxy?: ProxyDeps;
}

/** The CloudFront signer when the CDN is configured (its private key from Secrets Manager). */
async function cdnUrls(config: AwsConfig, secrets: SecretsManagerClient): Promise<UrlSigner | undefined> {
  if (!config.cdn) return undefined;
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: config.cdn.privateKeySecretArn }));
  const pem = out.SecretString ?? '';
  // The deployment creates the secret with a placeholder until the operator stores the real key.
  if (!pem.includes('PRIVATE KEY')) return undefined;
  return new CloudFrontUrls({ baseUrl: config.cdn.url, keyPairId: config.cdn.keyPairId, privateKey: pem });
}

async function readKeys(config: AwsConfig, source: { secretArn: string } | { file: string } = config.keys): Promise<SigningKeys> {
  if ('file' in source) return parseSigningKeys(await readFile(source.file, 'utf8'));
  return loadSigningKeys(secretsClient(config), source.secretArn);
}

/**
 * The token signer: its ES256 keys derived from the token keys secret (each entry's key a seed),
 * re-read every 5 minutes and on a token of a key not held (at most every 30 s), so a rotation
 * (functions/aws/token-key-rotation.ts) reaches running processes without a redeploy.
 */
async function tokenService(config: AwsConfig, onError: (error: unknown) => void): Promise<TokenService | undefined> {
  if (!config.auth) return undefined;
  const source = config.auth.tokenKeys;
  const keys = await RereadTokenKeys.start({
    load: async () => tokenKeysFrom((await readKeys(config, source)).upload.map((k) => Buffer.from(k.secret))),
    onError,
  });
  return new TokenService(keys, { issuer: config.auth.service, service: config.auth.service, refreshTokenSeconds: config.auth.refreshTokenSeconds });
}

const TOKEN_KEYS_NOT_REREAD = 'token keys not re-read: the keys read before stay in use';
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A failed re-read of the token keys told to the entry point's logger, as a warning (never the secret). */
export const warnTokenKeysError = (logger: { warn(message: string, extra: { error: string }): void }) => (error: unknown): void => logger.warn(TOKEN_KEYS_NOT_REREAD, { error: messageOf(error) });

/** Where a failed re-read of the token keys is told when the entry point gives no logger: one JSON line (never the secret). */
export function logTokenKeysError(error: unknown): void {
  console.warn(JSON.stringify({ level: 'WARN', message: TOKEN_KEYS_NOT_REREAD, error: messageOf(error) }));
}

export interface AwsDepsOptions {
  /**
   * Credentials for the clients. Deployed processes leave it out (the SDK's chain finds the role's);
   * start:aws passes the local stand-ins' own, rather than putting them into process.env.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** A re-read of the token keys failed (the keys read before stay in use); default logTokenKeysError. */
  onTokenKeysError?: (error: unknown) => void;
  /** What the pull-through cache reports (a fetch, a revalidation, a stale copy served); default logProxyEvent. */
  onProxyEvent?: (event: ProxyEvent) => void;
}

export async function createAwsDeps(config: AwsConfig, opts: AwsDepsOptions = {}): Promise<AwsDeps> {
  const credentials = opts.credentials ? { credentials: opts.credentials } : {};
  const dynamo = new DynamoDBClient({ region: config.region, maxAttempts: 4, ...credentials, ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}) });
  const s3 = makeS3Client({ region: config.region, ...credentials, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}), forcePathStyle: config.s3ForcePathStyle, maxAttempts: 4 });
  nameCommandsInErrors(dynamo, 'dynamodb');
  nameCommandsInErrors(s3, 's3');
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const audit = new DynamoAuditLog(doc, config.tableName);
  // A push's audit entry is written in the manifest's own transaction (one request less per push).
  const metadata = new DynamoMetadataStore({ client: dynamo, tableName: config.tableName, bodies: new S3ManifestBodyStore(s3, config.bucketName), audit });
  const [keys, urlSigner, tokens, origin] = await Promise.all([
    readKeys(config), config.cdn ? cdnUrls(config, secretsClient(config)) : undefined, tokenService(config, opts.onTokenKeysError ?? logTokenKeysError), config.originSecret ? readKeys(config, config.originSecret) : undefined,
  ]);
  const blobs = new S3BlobStore({ client: s3, bucket: config.bucketName, ...(urlSigner ? { urlSigner } : {}) });
  const identity = new DynamoIdentityStore(doc, config.tableName);
  const loginThrottle = new DynamoLoginThrottle(doc, config.tableName);
  const originSecrets = origin ? origin.upload.map((k) => String(k.secret)) : [];
  const proxy = awsProxy(config, identity, doc, () => secretsClient(config), opts.onProxyEvent);
  return { config, dynamo, s3, metadata, blobs, keys, identity, originSecrets, loginThrottle, audit, ...(tokens ? { tokens } : {}), ...(proxy ? { proxy } : {}) };
}

/**
 * Token auth (every deployment), with the projects' settings (tag immutability, storage quotas). Without it: closed
 * (401 to everything), or open for `start:aws` on loopback stand-ins alone (config.localOpen).
 */
function authOf(deps: AwsDeps): Pick<RegistryOptions, 'authorizer' | 'auth' | 'tagRules' | 'quotas'> {
  const auth = deps.config.auth;
  if (!auth || !deps.tokens) return { authorizer: deps.config.localOpen ? allowAll : closedRegistry };
  // Without a domain the public URL is CloudFront's own host, named per request (public-url.ts).
  const realm = auth.url === undefined ? { realm: '', realmOf: edgeRealm } : { realm: `${auth.url}/token` };
  return {
    authorizer: new TokenAuthorizer(deps.tokens, { ...realm, service: auth.service }, publicProjects(deps.identity)),
    auth: { store: deps.identity, tokens: deps.tokens, throttle: deps.loginThrottle, oidc: githubActionsVerifier(auth.oidc.audience, auth.oidc.githubUrl) },
    tagRules: projectTagRules(deps.identity),
    quotas: projectQuotas(deps.identity),
  };
}

/** `hooks`: the entry point's error classification and logging (its logger also writes the audit lines), and the CDN to purge on deletes (the API Lambda's). */
export function createAwsRegistry(deps: AwsDeps, { logger, ...hooks }: Pick<RegistryOptions, 'classifyError' | 'onError' | 'sharedCache'> & { logger?: Logger } = {}): Registry {
  return originGuard(regionalApi(createRegistry({
    audit: awsAuditRecorder(deps.audit, deps.config.auditPullFlushSeconds, logger),
    metadata: deps.metadata,
    blobs: deps.blobs,
    ...(deps.proxy ? { proxy: deps.proxy } : {}),
    ...authOf(deps),
    uploadTokens: new TokenSigner(deps.keys.upload),
    // A replica region's role cannot write the table: it records no pulls (docs/gc.md, "Retention").
    settings: { uploadTtlSeconds: deps.config.uploadTtlSeconds, recordPulls: deps.config.primaryRegion === undefined || deps.config.primaryRegion === deps.config.region },
    ...hooks,
  }), deps.config.region, deps.config.primaryRegion), deps.originSecrets);
}
