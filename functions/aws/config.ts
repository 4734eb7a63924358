// Settings of the AWS runtime (API Lambda, ingest task, events Lambda), from the environment the CDK
// app sets (the names and defaults are in env-contract.ts). Endpoints of local stand-ins come from
// the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
import { ConfigError } from '../config/config-error.ts';
import { choiceSetting, flagSetting, intSetting, optionalSetting, requiredSetting, textSetting, type Env } from '../config/env-settings.ts';
import { oidcSettings, type OidcSettings } from '../config/oidc-settings.ts';
import { proxySettings, type ProxySettings } from '../config/proxy-settings.ts';

export interface AwsConfig {
  region: string;
  /** The region writes go to (REGISTRY_PRIMARY_REGION); unset with one region. */
  primaryRegion?: string;
  tableName: string;
  bucketName: string;
  /** Secrets Manager secret with the HMAC keys (AWS), or a JSON file with the same content (start:aws). */
  keys: { secretArn: string } | { file: string };
  /**
   * `npm run start:aws` without REGISTRY_AUTH=on only: no authentication, taken only when every AWS
   * endpoint is a loopback stand-in (REGISTRY_LOCAL_OPEN=on). A deployment cannot be open: without
   * `auth` it answers every request 401.
   */
  localOpen: boolean;
  s3Endpoint?: string;
  dynamoEndpoint?: string;
  s3ForcePathStyle: boolean;
  uploadTtlSeconds: number;
  /** How often a process writes its pull counts (core/audit.ts). */
  auditPullFlushSeconds: number;
  /** Blob GETs redirect to CloudFront signed URLs when set (else to S3 presigned GETs). */
  cdn?: { url: string; keyPairId: string; privateKeySecretArn: string };
  /**
   * Docker token authentication (every deployment has it): the secret the token signing key is
   * derived from (as the HMAC keys: JSON with kid/key/previous), the public URL (realm `<url>/token`;
   * unset in an environment without a domain, where CloudFront names it per request:
   * functions/aws/public-url.ts) and the service name.
   */
  auth?: { tokenKeys: { secretArn: string } | { file: string }; url?: string; service: string; refreshTokenSeconds: number; oidc: OidcSettings };
  /**
   * The API Lambda only: the secret CloudFront sends in the origin-verify header (functions/aws/origin-guard.ts),
   * as the HMAC keys: JSON with kid/key/previous. Unset: no guard (the ingest service, behind a VPC origin).
   */
  originSecret?: { secretArn: string } | { file: string };
  /**
   * The pull-through cache (docs/proxy.md): its settings, bounded by API Gateway's 29 s, and where
   * proxy projects' upstream credentials are: Secrets Manager secrets `<prefix><project>` (a
   * deployment), or a folder of `<project>.json` files (start:aws); neither: no credentials to read.
   */
  proxy: ProxySettings & { secrets?: { prefix: string } | { dir: string } };
}

/** API Gateway gives up on the API Lambda after 29 s: a request waits for another's fetch 20 s at most, and fetches 25 s. */
export const AWS_PROXY_DEFAULTS = { waitSeconds: 20, fetchSeconds: 25, maxSeconds: 900 } as const;

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  } catch {
    return false;
  }
}

export function readAwsConfig(env: Env = process.env): AwsConfig {
  const secretArn = optionalSetting(env, 'KEYS_SECRET_ARN');
  const file = optionalSetting(env, 'REGISTRY_KEYS_FILE');
  if (!secretArn && !file) throw new ConfigError('KEYS_SECRET_ARN (or REGISTRY_KEYS_FILE for a local run) is not set');
  const config: AwsConfig = {
    region: optionalSetting(env, 'AWS_REGION') ?? textSetting(env, 'AWS_DEFAULT_REGION', 'us-east-1'),
    tableName: requiredSetting(env, 'TABLE_NAME'),
    bucketName: requiredSetting(env, 'BUCKET_NAME'),
    keys: secretArn ? { secretArn } : { file: file! },
    localOpen: false,
    s3ForcePathStyle: flagSetting(env, 'S3_FORCE_PATH_STYLE', false),
    uploadTtlSeconds: intSetting(env, 'REGISTRY_UPLOAD_TTL_SECONDS', 86_400, 1, 7 * 86_400),
    auditPullFlushSeconds: intSetting(env, 'REGISTRY_AUDIT_PULL_FLUSH_SECONDS', 60, 1, 86_400),
    proxy: proxySettings(env, AWS_PROXY_DEFAULTS),
  };
  const upstreamPrefix = optionalSetting(env, 'REGISTRY_UPSTREAM_SECRETS_PREFIX');
  const upstreamDir = optionalSetting(env, 'REGISTRY_UPSTREAM_SECRETS_DIR');
  if (upstreamPrefix) config.proxy.secrets = { prefix: upstreamPrefix };
  else if (upstreamDir) config.proxy.secrets = { dir: upstreamDir };
  // CloudFront signed URLs need all three; an environment without a custom domain gets no CDN_URL
  // and serves blobs through S3 presigned GETs.
  const url = optionalSetting(env, 'CDN_URL');
  const keyPairId = optionalSetting(env, 'CDN_KEY_PAIR_ID');
  const privateKeySecretArn = optionalSetting(env, 'CDN_PRIVATE_KEY_SECRET_ARN');
  if (url && keyPairId && privateKeySecretArn) config.cdn = { url, keyPairId, privateKeySecretArn };
  const anyEndpoint = optionalSetting(env, 'AWS_ENDPOINT_URL');
  const s3Endpoint = optionalSetting(env, 'AWS_ENDPOINT_URL_S3') ?? anyEndpoint;
  const dynamoEndpoint = optionalSetting(env, 'AWS_ENDPOINT_URL_DYNAMODB') ?? anyEndpoint;
  const tokenSecret = optionalSetting(env, 'TOKEN_KEYS_SECRET_ARN');
  const tokenFile = optionalSetting(env, 'REGISTRY_TOKEN_KEYS_FILE');
  const publicUrl = optionalSetting(env, 'REGISTRY_URL');
  const service = optionalSetting(env, 'REGISTRY_AUTH_SERVICE');
  const refreshTokenSeconds = intSetting(env, 'REGISTRY_REFRESH_TOKEN_DAYS', 30, 1, 365) * 86_400;
  // Read whether auth is on or not (the env contract test sees every variable read); '' audience: the service's.
  const oidc = oidcSettings(env, service ?? '');
  if (tokenSecret || tokenFile) {
    let host: string | undefined;
    try {
      host = publicUrl ? new URL(publicUrl).host : undefined;
    } catch {
      throw new ConfigError(`REGISTRY_URL ${JSON.stringify(publicUrl)} is not a URL`);
    }
    if (!(service ?? host)) throw new ConfigError('REGISTRY_AUTH_SERVICE (or REGISTRY_URL, whose host it defaults to) is not set: token authentication needs a service name');
    config.auth = {
      tokenKeys: tokenSecret ? { secretArn: tokenSecret } : { file: tokenFile! },
      ...(publicUrl ? { url: publicUrl.replace(/\/+$/, '') } : {}),
      service: (service ?? host)!,
      refreshTokenSeconds,
      oidc: oidc.audience === '' ? { ...oidc, audience: (service ?? host)! } : oidc,
    };
  }
  if (choiceSetting(env, 'REGISTRY_LOCAL_OPEN', ['on', 'off'], 'off') === 'on') {
    const endpoints = [s3Endpoint, dynamoEndpoint];
    if (config.auth || !endpoints.every((e) => e !== undefined && isLoopback(e))) {
      throw new ConfigError('REGISTRY_LOCAL_OPEN=on is for npm run start:aws alone: it needs loopback AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB and no token authentication');
    }
    config.localOpen = true;
  }
  const originSecretArn = optionalSetting(env, 'ORIGIN_SECRET_ARN');
  const originSecretFile = optionalSetting(env, 'REGISTRY_ORIGIN_SECRET_FILE');
  if (originSecretArn || originSecretFile) config.originSecret = originSecretArn ? { secretArn: originSecretArn } : { file: originSecretFile! };
  const primaryRegion = optionalSetting(env, 'REGISTRY_PRIMARY_REGION');
  if (primaryRegion) config.primaryRegion = primaryRegion;
  if (s3Endpoint) config.s3Endpoint = s3Endpoint;
  if (dynamoEndpoint) config.dynamoEndpoint = dynamoEndpoint;
  return config;
}
