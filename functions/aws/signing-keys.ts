// The registry's HMAC keys in AWS: one Secrets Manager secret (the CDK app generates it), read once
// per container and cached, never from an environment variable. Keys rotate by updating the secret:
// the new key becomes `kid`/`key` and the old one moves to `previous`, so tokens already handed out
// keep verifying until they expire.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningKey } from '../core/tokens.ts';

export interface SigningKeys {
  /** Upload tokens in Location headers, newest first (the edge verifies them with the same keys from its KeyValueStore). */
  upload: SigningKey[];
}

function key(value: unknown, where: string): SigningKey {
  const k = value as { kid?: unknown; key?: unknown } | null;
  if (typeof k?.kid !== 'string' || typeof k.key !== 'string') throw new Error(`signing keys secret: ${where} needs string "kid" and "key"`);
  if (Buffer.byteLength(k.key) < 32) throw new Error(`signing keys secret: ${where}.key must be at least 32 bytes`);
  return { id: k.kid, secret: k.key };
}

/** Parses the secret's JSON: `{ "kid": "k2", "key": "...", "previous": [{ "kid": "k1", "key": "..." }] }`. */
export function parseSigningKeys(json: string): SigningKeys {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('signing keys secret is not JSON');
  }
  const previous = (value as { previous?: unknown }).previous ?? [];
  if (!Array.isArray(previous)) throw new Error('signing keys secret: "previous" must be an array');
  return { upload: [key(value, 'the secret'), ...previous.map((p, i) => key(p, `previous[${i}]`))] };
}

/** Reads the keys from Secrets Manager (one GetSecretValue per container). */
export async function loadSigningKeys(client: SecretsManagerClient, secretId: string): Promise<SigningKeys> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return parseSigningKeys(out.SecretString);
}
