// Compact HMAC-signed, expiring tokens (upload state in Location headers, signed blob URLs).
import { createHmac, timingSafeEqual } from 'node:crypto';

export class TokenSigner {
  readonly #key: Buffer;

  constructor(secret: string | Uint8Array) {
    this.#key = Buffer.from(secret);
    if (this.#key.length < 16) throw new Error('signing secret must be at least 16 bytes');
  }

  /** `payload` must not contain '.'; returns `<base64url(payload)>.<exp>.<mac>`. */
  sign(payload: string, expiresAtSeconds: number): string {
    const body = `${Buffer.from(payload).toString('base64url')}.${expiresAtSeconds}`;
    return `${body}.${this.#mac(body)}`;
  }

  /** The payload when the token is authentic and unexpired, else undefined. */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): string | undefined {
    const opened = this.open(token);
    return opened === undefined || opened.expiresAtSeconds < nowSeconds ? undefined : opened.payload;
  }

  /** The payload and expiry of an authentic token, expired or not; undefined when it was not signed by this key. */
  open(token: string): { payload: string; expiresAtSeconds: number } | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [p, e, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.#mac(`${p}.${e}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (!/^\d{1,12}$/.test(e)) return undefined;
    return { payload: Buffer.from(p, 'base64url').toString(), expiresAtSeconds: Number(e) };
  }

  #mac(data: string): string {
    return createHmac('sha256', this.#key).update(data).digest('base64url');
  }
}
