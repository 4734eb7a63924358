// Verifying OIDC ID tokens from trusted issuers (GitHub Actions first), for keyless CI: signature
// (RS256/ES256, the issuer's keys), issuer, our audience, times. The keys come through the
// IssuerKeys port (adapters/oidc/discovered-keys.ts: discovery document, then the JWKS, kept in the
// process). An unknown `kid` or a bad token is OidcTokenError (401); keys that cannot be had are
// OidcUnavailableError (503).
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** The token is not valid (signature, issuer, audience, time, key): 401. */
export class OidcTokenError extends Error {}
/** The issuer's keys could not be had (unreachable, slow, malformed): 503. */
export class OidcUnavailableError extends Error {}

/** Clock skew allowed on exp/nbf/iat. */
const CLOCK_TOLERANCE_S = 10;

const MAX_ID_TOKEN_CHARS = 16 * 1024;

/** Whether a password looks like a JWT (three base64url parts): how `docker login -u oidc` is told apart. */
export const looksLikeJwt = (text: string): boolean => text.length <= MAX_ID_TOKEN_CHARS && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(text);

/** Where an issuer's signing keys come from (adapters/oidc/discovered-keys.ts fetches them). */
export interface IssuerKeys {
  /** Whether ID tokens of this issuer are accepted at all (decided before any fetch). */
  trusts(issuer: string): boolean;
  /** The issuer's key resolver; OidcUnavailableError when its keys cannot be had. */
  keysOf(issuer: string): Promise<JWTVerifyGetKey>;
}

export class OidcVerifier {
  readonly #audience: string;
  readonly #keys: IssuerKeys;

  constructor(audience: string, keys: IssuerKeys) {
    this.#audience = audience;
    this.#keys = keys;
  }

  get audience(): string {
    return this.#audience;
  }

  /** The claims of a valid ID token of a trusted issuer for our audience; OidcTokenError or OidcUnavailableError otherwise. */
  async verify(token: string, now = Date.now()): Promise<JWTPayload & { iss: string }> {
    if (!looksLikeJwt(token)) throw new OidcTokenError('not a JWT');
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new OidcTokenError('not a JWT');
    }
    if (typeof iss !== 'string' || !this.#keys.trusts(iss)) throw new OidcTokenError(`the issuer ${JSON.stringify(iss ?? null)} is not trusted`);
    const issuer = iss;
    const keys = await this.#keys.keysOf(issuer);
    try {
      const { payload } = await jwtVerify(token, async (header, input) => {
        try {
          return await keys(header, input);
        } catch (e) {
          if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw new OidcTokenError(`no key ${JSON.stringify(header.kid)} in the issuer's key set`);
          if (e instanceof errors.JOSEError && !(e instanceof errors.JWKSTimeout) && !(e instanceof errors.JWKSInvalid)) throw new OidcTokenError(e.message);
          throw new OidcUnavailableError(`the OIDC issuer ${issuer}'s keys could not be fetched: ${(e as Error).message}`);
        }
      }, {
        algorithms: ['RS256', 'ES256'],
        issuer,
        audience: this.#audience,
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return payload as JWTPayload & { iss: string };
    } catch (e) {
      if (e instanceof OidcUnavailableError || e instanceof OidcTokenError) throw e;
      throw new OidcTokenError((e as Error).message);
    }
  }
}
