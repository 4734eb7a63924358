// The upload-keys publisher Lambda (edge stack, us-east-1). Invoked by CloudFormation as a custom
// resource on create and update, or directly (`aws lambda invoke`) after a key rotation: reads the
// signing keys secret (in the environment's primary region) and makes the KeyValueStore's
// `upload-key-*` entries match it (publish.ts). On delete it does nothing: the entries go with the
// store. The secret's value is never logged or returned.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KvsClient, type Fetch } from './kvs.ts';
import { publishUploadKeys, uploadKeyEntries, type PublishResult } from './publish.ts';
import type { Credentials } from './sigv4a.ts';

export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: { KvsArn?: string; SecretArn?: string };
}

export interface PublisherDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readSecret: (arn: string) => Promise<string>;
  readonly kvs: KvsClient;
  readonly fetch: Fetch;
  readonly log: (message: string, data: Record<string, unknown>) => void;
}

const isCustomResource = (e: unknown): e is CustomResourceEvent =>
  typeof e === 'object' && e !== null && 'RequestType' in e && 'ResponseURL' in e;

export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`no region in ${JSON.stringify(arn)}`);
  return region;
}

async function sync(deps: PublisherDeps, kvsArn: string, secretArn: string): Promise<PublishResult> {
  const wanted = uploadKeyEntries(await deps.readSecret(secretArn));
  const result = await publishUploadKeys(deps.kvs, kvsArn, wanted);
  deps.log('upload keys published', { kvsArn, put: result.put, deleted: result.deleted, unchanged: result.unchanged });
  return result;
}

export function createHandler(deps: PublisherDeps) {
  return async (event: unknown): Promise<PublishResult | undefined> => {
    if (!isCustomResource(event)) {
      const kvsArn = deps.env.KVS_ARN;
      const secretArn = deps.env.SECRET_ARN;
      if (!kvsArn || !secretArn) throw new Error('KVS_ARN and SECRET_ARN must be set');
      return sync(deps, kvsArn, secretArn);
    }
    const physicalId = event.PhysicalResourceId ?? `${event.ResourceProperties.KvsArn ?? 'kvs'}/upload-keys`;
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = '';
    let data: Record<string, string> = {};
    try {
      if (event.RequestType !== 'Delete') {
        const { KvsArn, SecretArn } = event.ResourceProperties;
        if (!KvsArn || !SecretArn) throw new Error('KvsArn and SecretArn are required properties');
        const r = await sync(deps, KvsArn, SecretArn);
        // Key names only: they carry the key ids, never the secrets.
        data = { Keys: [...r.put, ...r.unchanged].sort().join(',') };
      }
    } catch (e) {
      status = 'FAILED';
      reason = e instanceof Error ? e.message : String(e);
      deps.log('upload keys not published', { error: reason });
    }
    const body = JSON.stringify({
      Status: status,
      Reason: reason || `see CloudWatch logs of ${deps.env.AWS_LAMBDA_FUNCTION_NAME ?? 'the function'}`,
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: data,
    });
    // The response URL is presigned without a Content-Type.
    const res = await deps.fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body });
    if (res.status >= 300) throw new Error(`CloudFormation response refused: ${res.status}`);
    return undefined;
  };
}

function lambdaCredentials(): Credentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials in the environment');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

const clients = new Map<string, SecretsManagerClient>();

export const handler = createHandler({
  env: process.env,
  readSecret: async (arn) => {
    const region = regionOfArn(arn);
    let client = clients.get(region);
    if (!client) clients.set(region, (client = new SecretsManagerClient({ region })));
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (out.SecretString === undefined) throw new Error(`secret ${arn} has no string value`);
    return out.SecretString;
  },
  kvs: new KvsClient({ credentials: lambdaCredentials }),
  fetch: fetch as unknown as Fetch,
  log: (message, data) => console.log(JSON.stringify({ message, ...data })),
});
