// Registry tokens: ES256 JWTs (jose) with distribution's claims (docs/spec/auth/jwt.md): iss, sub,
// aud (the service), exp, nbf, iat, jti and `access` [{type, name, actions}]. Access tokens live 5
// minutes; refresh tokens (what `docker login` stores as its identity token) are JWTs too, told
// apart by `token_use`, and only the token endpoint accepts them. Verification uses the public keys
// held in the process: no network call per request; verified tokens are remembered until they expire.
// The keys come from a TokenKeySource (token-key-source.ts): fixed, or re-read as they rotate.
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { Grant } from './grants.ts';
import { fixedTokenKeys, isTokenKeySource, type TokenKeys, type TokenKeySource } from './token-key-source.ts';

export const ACCESS_TOKEN_SECONDS = 300;

export type { SigningKeyPair, TokenKeys } from './token-key-source.ts';

export interface TokenSettings {
  issuer: string;
  /** The service name (`aud`), from configuration, never from the request. */
  service: string;
  refreshTokenSeconds: number;
}

export interface AccessClaims {
  sub: string;
  access: Grant[];
  exp: number;
}

export interface RefreshClaims {
  sub: string;
  exp: number;
  /** For a refresh token made by an OIDC trust rule: the rule that capped it. */
  rule?: string;
  /** For a refresh token made from a personal access token: its name (the token must stay live). */
  pat?: string;
}

export class TokenError extends Error {}

export class TokenService {
  readonly #keys: TokenKeySource;
  readonly #settings: TokenSettings;
  readonly #verified = new Map<string, { claims: AccessClaims; until: number }>();

  constructor(keys: TokenKeys | TokenKeySource, settings: TokenSettings) {
    this.#keys = isTokenKeySource(keys) ? keys : fixedTokenKeys(keys);
    this.#settings = settings;
  }

  get service(): string {
    return this.#settings.service;
  }

  async #sign(claims: JWTPayload, seconds: number, now: number): Promise<string> {
    const iat = Math.floor(now / 1000);
    const { current } = this.#keys.keys();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: current.kid, typ: 'JWT' })
      .setIssuer(this.#settings.issuer)
      .setAudience(this.#settings.service)
      .setIssuedAt(iat)
      .setNotBefore(iat - 1)
      .setExpirationTime(iat + seconds)
      .setJti(randomUUID())
      .sign(current.privateKey);
  }

  issueAccess(subject: string, access: Grant[], now = Date.now()): Promise<string> {
    return this.#sign({ sub: subject, access, token_use: 'access' }, ACCESS_TOKEN_SECONDS, now);
  }

  /** `seconds` may shorten the configured life, never extend it. */
  issueRefresh(subject: string, now = Date.now(), opts: { seconds?: number; rule?: string; pat?: string } = {}): Promise<string> {
    const seconds = Math.min(opts.seconds ?? this.#settings.refreshTokenSeconds, this.#settings.refreshTokenSeconds);
    return this.#sign({ sub: subject, token_use: 'refresh', ...(opts.rule ? { rule: opts.rule } : {}), ...(opts.pat ? { pat: opts.pat } : {}) }, seconds, now);
  }

  async #verify(token: string, use: 'access' | 'refresh', now: number): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, async (header) => {
        if (header.kid === undefined) throw new TokenError('unknown key id');
        // A key id not held: maybe a key rotated in since this process read its keys (the source
        // re-reads at most every 30 s, whatever tokens arrive).
        const key = this.#keys.keys().verifying.get(header.kid) ?? (await this.#keys.keysForUnknownKid()).verifying.get(header.kid);
        if (!key) throw new TokenError('unknown key id');
        return key;
      }, {
        algorithms: ['ES256'],
        issuer: this.#settings.issuer,
        audience: this.#settings.service,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'nbf', 'iat', 'sub'],
      });
      if (payload.token_use !== use) throw new TokenError(`not an ${use} token`);
      return payload;
    } catch (e) {
      throw e instanceof TokenError ? e : new TokenError((e as Error).message);
    }
  }

  /** The claims of a valid access token; TokenError otherwise. */
  async verifyAccess(token: string, now = Date.now()): Promise<AccessClaims> {
    const hit = this.#verified.get(token);
    if (hit && hit.until > now) return hit.claims;
    const p = await this.#verify(token, 'access', now);
    if (!Array.isArray(p.access)) throw new TokenError('no access claim');
    const claims: AccessClaims = { sub: String(p.sub), access: p.access as Grant[], exp: p.exp! };
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(token, { claims, until: Math.min(p.exp! * 1000, now + ACCESS_TOKEN_SECONDS * 1000) });
    return claims;
  }

  async verifyRefresh(token: string, now = Date.now()): Promise<RefreshClaims> {
    const p = await this.#verify(token, 'refresh', now);
    return { sub: String(p.sub), exp: p.exp!, ...(typeof p.rule === 'string' ? { rule: p.rule } : {}), ...(typeof p.pat === 'string' ? { pat: p.pat } : {}) };
  }
}
