// Settings of the AWS runtime (API Lambda, ingest task, events Lambda), from the environment the CDK
// app sets. Endpoints of local stand-ins come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
export interface AwsConfig {
  region: string;
  tableName: string;
  bucketName: string;
  /** Secrets Manager secret with the HMAC keys (AWS), or a JSON file with the same content (start:aws). */
  keys: { secretArn: string } | { file: string };
  /** `closed` (the default) answers every request 401 until authentication is configured. */
  access: 'closed' | 'open';
  s3Endpoint?: string;
  s3ForcePathStyle: boolean;
  /** Keep a running sha512 beside sha256 so sha512 digests verify (a second hash pass per byte). */
  sha512: boolean;
  uploadTtlSeconds: number;
  /** Blob GETs redirect to CloudFront signed URLs when set (else to S3 presigned GETs). */
  cdn?: { url: string; keyPairId: string; privateKeySecretArn: string };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is not set`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function readAwsConfig(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const access = env.REGISTRY_ACCESS ?? 'closed';
  if (access !== 'closed' && access !== 'open') throw new ConfigError(`REGISTRY_ACCESS must be closed or open, got ${JSON.stringify(access)}`);
  const secretArn = env.KEYS_SECRET_ARN;
  const file = env.REGISTRY_KEYS_FILE;
  if (!secretArn && !file) throw new ConfigError('KEYS_SECRET_ARN (or REGISTRY_KEYS_FILE for a local run) is not set');
  const ttl = Number(env.REGISTRY_UPLOAD_TTL_SECONDS ?? 86_400);
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > 7 * 86_400) throw new ConfigError('REGISTRY_UPLOAD_TTL_SECONDS must be an integer from 1 to 604800');
  const config: AwsConfig = {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tableName: required(env, 'TABLE_NAME'),
    bucketName: required(env, 'BUCKET_NAME'),
    keys: secretArn ? { secretArn } : { file: file! },
    access,
    s3ForcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', false),
    sha512: flag(env, 'REGISTRY_SHA512', true),
    uploadTtlSeconds: ttl,
  };
  // CloudFront signed URLs need all three; an environment without a custom domain gets no CDN_URL
  // and serves blobs through S3 presigned GETs.
  const { CDN_URL: url, CDN_KEY_PAIR_ID: keyPairId, CDN_PRIVATE_KEY_SECRET_ARN: privateKeySecretArn } = env;
  if (url && keyPairId && privateKeySecretArn) config.cdn = { url, keyPairId, privateKeySecretArn };
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) config.s3Endpoint = endpoint;
  return config;
}
