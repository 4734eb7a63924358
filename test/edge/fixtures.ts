// Shared set-up for the edge function tests: upload-token keys in a KeyValueStore (as the deployment
// writes them), the two functions loaded through the harness, and CloudFront events for requests.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { KeyValueStore, loadEdgeFunction, requestEvent, responseBody, type CfEvent, type EdgeFunction, type RunResult } from '../../dev/cloudfront/harness.ts';
import { uploadKeyName, type EdgeConfig } from '../../functions/edge/source.ts';
import { TokenSigner, type SigningKey } from '../../functions/core/tokens.ts';
import { uploadTokenPayload } from '../../functions/core/upload-session.ts';
import { ociErrorBody } from '../../functions/core/errors.ts';
import { API_VERSION_HEADERS } from '../../functions/core/http.ts';

export const CONFIG: EdgeConfig = { ingest: true, edgeUploads: true, s3Origin: 'blob-bucket', ingestOrigin: 'ingest-alb', apiOrigin: 'api-gateway' };
export const GiB = 1024 * 1024 * 1024;
export const MAX_PUT = 5 * GiB;

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface EdgeSetup {
  keys: SigningKey[];
  kvs: KeyValueStore;
  signer: TokenSigner;
  request: EdgeFunction;
  response: EdgeFunction;
}

/** Keys `k1` (signing) and `k0`, both in the KeyValueStore as base64. */
export function edgeSetup(config: EdgeConfig = CONFIG): EdgeSetup {
  const keys: SigningKey[] = [
    { id: 'k1', secret: randomBytes(32) },
    { id: 'k0', secret: randomBytes(32) },
  ];
  const kvs = new KeyValueStore();
  for (const k of keys) kvs.set(uploadKeyName(k.id), Buffer.from(k.secret).toString('base64'));
  return {
    keys,
    kvs,
    signer: new TokenSigner(keys),
    request: loadEdgeFunction('viewer-request', { config, kvs }),
    response: loadEdgeFunction('viewer-response'),
  };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface Session {
  repo: string;
  id: string;
  token: string;
  /** The Location the API hands out. */
  location: string;
}

export function session(signer: TokenSigner, repo = 'team/app', id = randomUUID(), exp = nowSeconds() + 3600): Session {
  const token = signer.sign(uploadTokenPayload(repo, id, 'ci'), exp);
  return { repo, id, token, location: `/v2/${repo}/blobs/uploads/${id}?_state=${token}` };
}

export function event(method: string, url: string, headers: Record<string, string> = {}): CfEvent {
  return requestEvent({ method, url, headers: { host: 'registry.example.com', 'user-agent': 'containerd/2.3.0', ...headers } });
}

/** `PUT <location>&digest=<digest>` with a body of `length` bytes (the body itself never reaches a function). */
export function put(location: string, digest: string, length: number | undefined, headers: Record<string, string> = {}): CfEvent {
  const h: Record<string, string> = { 'content-type': 'application/octet-stream', ...headers };
  if (length !== undefined) h['content-length'] = String(length);
  return event('PUT', `${location}&digest=${encodeURIComponent(digest)}`, h);
}

export function expectS3(result: RunResult, repo: string, hex: string): void {
  expect(result.kind).toBe('request');
  if (result.kind !== 'request') return;
  expect(result.origin).toEqual({ kind: 'id', id: CONFIG.s3Origin });
  expect(result.request.uri).toBe(`/blobs/r/${repo}/sha256/${hex}`);
  expect(result.request.querystring).toEqual({});
  expect(result.request.headers['x-amz-checksum-sha256']).toEqual({ value: Buffer.from(hex, 'hex').toString('base64') });
}

export function expectRouted(result: RunResult, origin: string): void {
  expect(result.kind).toBe('request');
  expect(result.origin).toEqual({ kind: 'id', id: origin });
  if (result.kind === 'request') {
    expect(result.request.uri.startsWith('/v2/')).toBe(true);
    expect(result.request.headers['x-amz-checksum-sha256']).toBeUndefined();
  }
}

export function expectRefusal(result: RunResult, status: number, code: string): Record<string, unknown> {
  expect(result.kind).toBe('response');
  if (result.kind !== 'response') return {};
  expect(result.origin).toEqual({ kind: 'default' });
  expect(result.response.statusCode).toBe(status);
  expect(result.response.headers['content-type']).toEqual({ value: 'application/json' });
  const body = JSON.parse(responseBody(result.response).toString('utf8')) as { errors: { code: string; message: string; detail: Record<string, unknown> }[] };
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  // The function cannot import the core: its body and version header must still be the core's.
  expect(body).toEqual(ociErrorBody(code, body.errors[0]!.message, body.errors[0]!.detail));
  expect(result.response.headers['docker-distribution-api-version']).toEqual({ value: API_VERSION_HEADERS['docker-distribution-api-version'] });
  return body.errors[0]!.detail;
}
