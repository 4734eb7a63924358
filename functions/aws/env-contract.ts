// The environment contract of the deployed processes: every variable the API Lambda, the events
// Lambda, the ingest task, the upload-keys Lambda, the GC Lambda and the token key rotation Lambda
// read, who sets it and what it means. The CDK app (infra/runtime-env.ts) sets variables by these
// names only, the runtime reads them by these names only, and test/infra/env-contract.test.ts holds
// the two sides against this list. docs/deploy.md lists the same.

export type RuntimeProcess = 'api' | 'events' | 'ingest' | 'upload-keys' | 'gc' | 'token-key-rotation';

export interface RuntimeVariable {
  readonly processes: readonly RuntimeProcess[];
  /**
   * Who provides it: `infra` (the CDK app sets it, unless it has a default), `platform` (Lambda or
   * ECS sets it), `local` (only `npm run start:aws` and the tests set it; a deployment never does).
   */
  readonly setBy: 'infra' | 'platform' | 'local';
  /** The value when unset, for a variable a process may go without. */
  readonly default?: string;
  readonly meaning: string;
}

const REGISTRY: readonly RuntimeProcess[] = ['api', 'events', 'ingest'];
/** Every process that reaches the table and the bucket (the GC Lambda reads no secret). */
const DATA: readonly RuntimeProcess[] = [...REGISTRY, 'gc'];

export const RUNTIME_ENV = {
  TABLE_NAME: { processes: DATA, setBy: 'infra', meaning: 'the DynamoDB table (metadata)' },
  BUCKET_NAME: { processes: DATA, setBy: 'infra', meaning: 'the S3 bucket (blobs, large manifest bodies, upload segments)' },
  KEYS_SECRET_ARN: { processes: REGISTRY, setBy: 'infra', meaning: 'Secrets Manager secret with the upload-token HMAC keys' },
  REGISTRY_KEYS_FILE: { processes: REGISTRY, setBy: 'local', meaning: 'a JSON file with the same content as the keys secret, instead of KEYS_SECRET_ARN' },
  REGISTRY_LOCAL_OPEN: { processes: REGISTRY, setBy: 'local', default: 'off', meaning: '`on`: no authentication, for `npm run start:aws` without REGISTRY_AUTH=on; refused unless the S3 and DynamoDB endpoints are loopback stand-ins (a deployment without token auth answers every request 401)' },
  CDN_URL: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'base URL of the CloudFront distribution; with the two below, blob GETs redirect to CloudFront signed URLs (else S3 presigned GETs)' },
  CDN_KEY_PAIR_ID: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'CloudFront public key id that signs blob URLs' },
  CDN_PRIVATE_KEY_SECRET_ARN: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'Secrets Manager secret with the private key of CDN_KEY_PAIR_ID' },
  TOKEN_KEYS_SECRET_ARN: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'Secrets Manager secret the ES256 token signing key is derived from: Docker token authentication is on (every environment; without it every request is answered 401)' },
  ORIGIN_SECRET_ARN: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'Secrets Manager secret whose key CloudFront sends in the x-registry-origin-verify header; requests without it (straight to the API Gateway URL) are refused 403' },
  REGISTRY_ORIGIN_SECRET_FILE: { processes: REGISTRY, setBy: 'local', meaning: 'a JSON file with the same content as the origin secret, instead of ORIGIN_SECRET_ARN' },
  REGISTRY_AUDIT_PULL_FLUSH_SECONDS: { processes: REGISTRY, setBy: 'local', default: '60', meaning: 'how often a process writes its per-repository pull counts to the audit trail (1 s to 1 day); start:aws tests shorten or lengthen it' },
  REGISTRY_TOKEN_KEYS_FILE: { processes: REGISTRY, setBy: 'local', meaning: 'a JSON file with the same content as the token keys secret, instead of TOKEN_KEYS_SECRET_ARN' },
  REGISTRY_URL: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'the registry\'s public URL (an environment with a domain): the token realm is <url>/token; unset, the realm is https://<the CloudFront host named by the x-registry-host header the CloudFront Functions set>/token' },
  REGISTRY_AUTH_SERVICE: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'the token service name (aud); default the host of REGISTRY_URL; oci-registry-<env> in an environment without a domain' },
  REGISTRY_OIDC_AUDIENCE: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'the `aud` OIDC ID tokens (keyless CI) must carry; default the token service name' },
  REGISTRY_OIDC_GITHUB_URL: { processes: REGISTRY, setBy: 'local', meaning: 'where GitHub Actions\' OIDC discovery document is fetched from instead of https://token.actions.githubusercontent.com (tests)' },
  REGISTRY_REFRESH_TOKEN_DAYS: { processes: [...REGISTRY, 'token-key-rotation'], setBy: 'infra', default: '30', meaning: 'lifetime of refresh tokens (docker login\'s identity token), 1 to 365 days; the token key rotation keeps a retired key this long and a day (set it on both alike)' },
  REGISTRY_PRIMARY_REGION: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'the region every write goes to; an API in another region (a read replica) answers writes 503 naming it' },
  REGISTRY_UPLOAD_TTL_SECONDS: { processes: REGISTRY, setBy: 'infra', default: '86400', meaning: 'upload sessions expire after this long (1 s to 7 days)' },
  REGISTRY_UPSTREAM_SECRETS_PREFIX: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'proxy projects\' upstream credentials are the Secrets Manager secrets <prefix><project> (oci-registry/<env>/upstream/, written by `npm run admin -- --aws`); set on the primary region\'s API only (the one that fetches from upstreams); unset: none are read' },
  REGISTRY_UPSTREAM_SECRETS_DIR: { processes: REGISTRY, setBy: 'local', meaning: 'a folder of <project>.json files with the same content, instead of REGISTRY_UPSTREAM_SECRETS_PREFIX (start:aws)' },
  REGISTRY_PROXY_MIRROR: { processes: REGISTRY, setBy: 'infra', default: '', meaning: 'the proxy project dockerd\'s registry-mirrors paths map into (docs/proxy.md): cdk.json proxyMirror, set on the primary region\'s API only (a replica\'s API has no proxy; ingest serves no reads)' },
  REGISTRY_PROXY_LEASE_SECONDS: { processes: REGISTRY, setBy: 'infra', default: '60', meaning: 'a pull-through fetch lease lasts this long, renewed while the fetch runs (1 s to 1 h)' },
  REGISTRY_PROXY_WAIT_SECONDS: { processes: REGISTRY, setBy: 'infra', default: '20', meaning: 'a request waits this long for another\'s upstream fetch before it answers 429 with Retry-After (below API Gateway\'s 29 s)' },
  REGISTRY_PROXY_FETCH_SECONDS: { processes: REGISTRY, setBy: 'infra', default: '25', meaning: 'one upstream request, body included, is given up after this long (below API Gateway\'s 29 s): a blob that cannot be fetched in it is answered 503 (docs/proxy.md, "AWS")' },
  POWERTOOLS_SERVICE_NAME: { processes: [...DATA, 'token-key-rotation'], setBy: 'infra', meaning: 'service name in every log line and metric (read by Powertools)' },
  POWERTOOLS_METRICS_NAMESPACE: { processes: DATA, setBy: 'infra', meaning: 'CloudWatch namespace of the metrics (read by Powertools)' },
  PORT: { processes: ['ingest'], setBy: 'infra', default: '8080', meaning: 'port the ingest service listens on' },
  HOST: { processes: ['ingest'], setBy: 'infra', default: '0.0.0.0', meaning: 'address the ingest service listens on' },
  REGISTRY_IDLE_TIMEOUT_SECONDS: { processes: ['ingest'], setBy: 'infra', default: '300', meaning: 'a connection that waits this long on its client is closed (0 disables)' },
  GC_GRACE: { processes: ['gc'], setBy: 'infra', default: '6h', meaning: 'nothing written more recently than this is collected (cdk.json gc.grace)' },
  GC_UNTAGGED: { processes: ['gc'], setBy: 'infra', default: '1d', meaning: 'untagged manifests younger than this are kept (cdk.json gc.untagged)' },
  CDN_DISTRIBUTION_COMMENT: { processes: ['gc'], setBy: 'infra', default: '', meaning: 'the comment of the environment\'s CloudFront distribution, which a finished GC run purges of what it deleted (empty: no purge)' },
  KVS_ARN: { processes: ['upload-keys'], setBy: 'infra', meaning: 'the CloudFront KeyValueStore the upload keys are published to' },
  SECRET_ARN: { processes: ['upload-keys'], setBy: 'infra', meaning: 'the signing keys secret to publish' },
  AWS_REGION: { processes: DATA, setBy: 'platform', meaning: 'the region the process runs in' },
  AWS_DEFAULT_REGION: { processes: DATA, setBy: 'platform', meaning: 'read when AWS_REGION is not set' },
  AWS_LAMBDA_FUNCTION_NAME: { processes: ['upload-keys'], setBy: 'platform', meaning: 'names the function in the custom resource\'s physical id' },
  AWS_ACCESS_KEY_ID: { processes: ['upload-keys'], setBy: 'platform', meaning: 'the Lambda role credentials the KeyValueStore request is signed with' },
  AWS_SECRET_ACCESS_KEY: { processes: ['upload-keys'], setBy: 'platform', meaning: 'as above' },
  AWS_SESSION_TOKEN: { processes: ['upload-keys'], setBy: 'platform', meaning: 'as above' },
  AWS_ENDPOINT_URL: { processes: DATA, setBy: 'local', meaning: 'endpoint of local stand-ins for every service' },
  AWS_ENDPOINT_URL_S3: { processes: DATA, setBy: 'local', meaning: 'endpoint of the S3 stand-in' },
  AWS_ENDPOINT_URL_DYNAMODB: { processes: DATA, setBy: 'local', meaning: 'endpoint of DynamoDB Local' },
  S3_FORCE_PATH_STYLE: { processes: DATA, setBy: 'local', default: 'false', meaning: 'path-style S3 URLs (the S3 stand-in)' },
  REGISTRY_CALL_COUNTS: { processes: ['ingest'], setBy: 'local', default: 'off', meaning: '`on` serves the counts of AWS calls on /healthz/calls (tests and benches)' },
} as const satisfies Record<string, RuntimeVariable>;

export type RuntimeEnvName = keyof typeof RUNTIME_ENV;

/** An environment the CDK app sets on a process: contract names only. */
export type RuntimeEnvironment = Partial<Record<RuntimeEnvName, string>>;

/** The variables as a process environment (CloudFormation's shape): contract names only, no unset ones. */
export function runtimeEnvironment(env: RuntimeEnvironment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}
