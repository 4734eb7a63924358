// A Secrets Manager stand-in for the bench's cold start: GetSecretValue over the service's own JSON
// protocol (POST /, X-Amz-Target: secretsmanager.GetSecretValue), so that the API bundle reads its
// keys as it does in AWS (its SDK client, request signing, one HTTP round trip), pointed here with
// AWS_ENDPOINT_URL_SECRETS_MANAGER. Loopback: the network time of the real service is not in it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsStandIn {
  url: string;
  /** GetSecretValue requests answered. */
  requests: number;
  close(): Promise<void>;
}

/** Serves `secrets` (ARN -> SecretString). */
export async function startSecretsStandIn(secrets: Record<string, string>): Promise<SecretsStandIn> {
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const answer = (status: number, body: unknown): void => {
        const json = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(Buffer.byteLength(json)) }).end(json);
      };
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || !/^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization))) {
        answer(400, { __type: 'InvalidRequestException', message: 'only signed GetSecretValue is served here' });
        return;
      }
      const id = (JSON.parse(text || '{}') as { SecretId?: string }).SecretId ?? '';
      const value = secrets[id];
      if (value === undefined) {
        answer(400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret: ${id}` });
        return;
      }
      state.requests++;
      answer(200, { ARN: id, Name: id.split(':').at(-1), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 1_767_225_600 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
