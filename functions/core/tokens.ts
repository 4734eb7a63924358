// Compact HMAC-signed, expiring tokens (upload state in Location headers, signed blob URLs), with a key
// id so keys can rotate: tokens are signed with the newest key and verified with any key still listed.
// Each use has its own keys: an upload token can never pass as a blob URL token, or the reverse.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningKey {
  /** Short key id carried in every token (letters, digits, '-', '_'). */
  id: string;
  secret: string | Uint8Array;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;

export class TokenSigner {
  readonly #keys: Map<string, Buffer>;
  readonly #current: string;

  /** `keys[0]` signs; every key in the list verifies. A bare secret is one key with id `k0`. */
  constructor(keys: string | Uint8Array | readonly SigningKey[]) {
    const list = typeof keys === 'string' || keys instanceof Uint8Array ? [{ id: 'k0', secret: keys }] : keys;
    if (list.length === 0) throw new Error('at least one signing key is needed');
    this.#keys = new Map();
    for (const key of list) {
      if (!KEY_ID.test(key.id)) throw new Error(`invalid signing key id: ${JSON.stringify(key.id)}`);
      const bytes = Buffer.from(key.secret);
      if (bytes.length < 16) throw new Error('signing secret must be at least 16 bytes');
      if (this.#keys.has(key.id)) throw new Error(`duplicate signing key id: ${key.id}`);
      this.#keys.set(key.id, bytes);
    }
    this.#current = list[0]!.id;
  }

  /** `payload` may hold any text; returns `<kid>.<base64url(payload)>.<exp>.<mac>`. */
  sign(payload: string, expiresAtSeconds: number): string {
    const body = `${this.#current}.${Buffer.from(payload).toString('base64url')}.${expiresAtSeconds}`;
    return `${body}.${mac(this.#keys.get(this.#current)!, body)}`;
  }

  /** The payload when the token is authentic and unexpired, else undefined. */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): string | undefined {
    const opened = this.open(token);
    return opened === undefined || opened.expiresAtSeconds < nowSeconds ? undefined : opened.payload;
  }

  /** The payload and expiry of an authentic token, expired or not; undefined when no listed key signed it. */
  open(token: string): { payload: string; expiresAtSeconds: number } | undefined {
    if (token.length > 4096) return undefined;
    const parts = token.split('.');
    if (parts.length !== 4) return undefined;
    const [kid, p, e, given] = parts as [string, string, string, string];
    const key = this.#keys.get(kid);
    if (!key) return undefined;
    const expected = Buffer.from(mac(key, `${kid}.${p}.${e}`));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
    if (!/^\d{1,12}$/.test(e)) return undefined;
    return { payload: Buffer.from(p, 'base64url').toString(), expiresAtSeconds: Number(e) };
  }
}

function mac(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

/** Derives a purpose-specific key from one master secret (HMAC-SHA256), so one secret file can feed several signers. */
export function deriveKey(master: string | Uint8Array, purpose: string): Buffer {
  return createHmac('sha256', Buffer.from(master)).update(`oci-registry/${purpose}`).digest();
}
