// The ES256 keys tokens are signed with, derived from a secret the deployment already keeps (the data
// dir's master secret on `npm start`; a Secrets Manager secret in AWS): HKDF-SHA256 to a P-256
// scalar. Nothing new to store, and rotating the secret (its `previous` entries keep verifying)
// rotates the token key. The key id is the JWK thumbprint (RFC 7638), so it names the key itself.
import { createECDH, createHash, createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import type { SigningKeyPair, TokenKeys } from './jwt.ts';

const LABEL = 'oci-registry token signing key v1';

function scalar(seed: Uint8Array): Buffer {
  for (let counter = 0; counter < 8; counter++) {
    const d = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), `${LABEL} ${counter}`, 32));
    const ecdh = createECDH('prime256v1');
    try {
      ecdh.setPrivateKey(d);
      return d;
    } catch {
      // Outside 1..n-1 (probability ~2^-32): derive the next candidate.
    }
  }
  throw new Error('no valid P-256 scalar could be derived');
}

export function deriveTokenKey(seed: Uint8Array): SigningKeyPair {
  const d = scalar(seed);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') };
  const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url').slice(0, 16);
  return {
    kid,
    privateKey: createPrivateKey({ key: { ...jwk, d: d.toString('base64url') }, format: 'jwk' }),
    publicKey: createPublicKey({ key: jwk, format: 'jwk' }),
  };
}

/** `seeds[0]` signs; every seed's key verifies. */
export function tokenKeysFrom(seeds: readonly Uint8Array[]): TokenKeys {
  if (seeds.length === 0) throw new Error('at least one token key seed is needed');
  const pairs = seeds.map(deriveTokenKey);
  return { current: pairs[0]!, verifying: new Map(pairs.map((p) => [p.kid, p.publicKey])) };
}
