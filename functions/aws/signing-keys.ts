// The registry's HMAC keys in AWS: one Secrets Manager secret holds both key lists, so keys rotate by
// updating the secret (the newest key first signs; older keys still listed keep verifying tokens
// already handed out). Read once per container and cached; never from an environment variable.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningKey } from '../core/tokens.ts';

export interface SigningKeys {
  /** Upload tokens in Location headers (the edge verifies these with the same keys, from its KeyValueStore). */
  upload: SigningKey[];
  /** Reserved for blob URLs signed by the registry itself (S3 presigning and CloudFront use their own keys). */
  blobUrl: SigningKey[];
}

function keyList(value: unknown, field: string): SigningKey[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`signing keys secret: "${field}" must be a non-empty array of { id, secret }`);
  return value.map((k, i) => {
    const key = k as { id?: unknown; secret?: unknown };
    if (typeof key.id !== 'string' || typeof key.secret !== 'string') throw new Error(`signing keys secret: ${field}[${i}] needs string "id" and "secret"`);
    if (Buffer.byteLength(key.secret) < 32) throw new Error(`signing keys secret: ${field}[${i}].secret must be at least 32 bytes`);
    return { id: key.id, secret: key.secret };
  });
}

/** Parses the secret's JSON: `{ "upload": [{ "id": "u1", "secret": "..." }], "blobUrl": [...] }`. */
export function parseSigningKeys(json: string): SigningKeys {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('signing keys secret is not JSON');
  }
  const v = value as { upload?: unknown; blobUrl?: unknown };
  return { upload: keyList(v.upload, 'upload'), blobUrl: keyList(v.blobUrl, 'blobUrl') };
}

/** Reads the keys from Secrets Manager (one GetSecretValue per container). */
export async function loadSigningKeys(client: SecretsManagerClient, secretId: string): Promise<SigningKeys> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return parseSigningKeys(out.SecretString);
}
