// The signing keys of trusted OIDC issuers, fetched over HTTPS: the discovery document
// (`<base>/.well-known/openid-configuration`, whose `issuer` must be the issuer itself) names the
// `jwks_uri`; jose's createRemoteJWKSet keeps that key set in the process (10 minutes; an unknown
// `kid` refetches it at most every 30 s), so a token exchange costs no fetch once warm. Every
// fetch is bounded (5 s by default), and a failed discovery is not retried for 5 s, so an
// unreachable issuer answers a clear 503 quickly, never a hang. The base URL is the issuer's own
// unless configured otherwise (tests serve an issuer on loopback: no internet here).
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { GITHUB_ISSUER, OidcUnavailableError, OidcVerifier, type IssuerKeys } from '../../core/auth/oidc.ts';

const DEFAULT_TIMEOUT_MS = 5000;
/** After a failed discovery, the next request may try again after this long. */
const DISCOVERY_RETRY_MS = 5000;

export class DiscoveredIssuerKeys implements IssuerKeys {
  /** `iss` -> the base URL its discovery document is under. */
  readonly #issuers: ReadonlyMap<string, string>;
  readonly #timeoutMs: number;
  readonly #keys = new Map<string, Promise<JWTVerifyGetKey>>();
  readonly #failed = new Map<string, { at: number; error: OidcUnavailableError }>();

  constructor(issuers: ReadonlyMap<string, string>, opts: { timeoutMs?: number } = {}) {
    this.#issuers = issuers;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  trusts(issuer: string): boolean {
    return this.#issuers.has(issuer);
  }

  async #discover(issuer: string, base: string): Promise<JWTVerifyGetKey> {
    const url = `${base.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer in ${this.#timeoutMs} ms` : (e as Error).message;
      throw new OidcUnavailableError(`the OIDC issuer ${issuer} could not be reached (${url}: ${why})`);
    }
    if (doc.issuer !== issuer || typeof doc.jwks_uri !== 'string') throw new OidcUnavailableError(`the OIDC discovery document at ${url} is not ${issuer}'s (its issuer or jwks_uri is missing or different)`);
    return createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: this.#timeoutMs, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    const base = this.#issuers.get(issuer);
    if (base === undefined) return Promise.reject(new OidcUnavailableError(`the issuer ${issuer} is not trusted`));
    const failed = this.#failed.get(issuer);
    if (failed && Date.now() - failed.at < DISCOVERY_RETRY_MS) return Promise.reject(failed.error);
    let keys = this.#keys.get(issuer);
    if (!keys) {
      keys = this.#discover(issuer, base);
      this.#keys.set(issuer, keys);
      keys.catch((e: unknown) => {
        this.#keys.delete(issuer);
        this.#failed.set(issuer, { at: Date.now(), error: e as OidcUnavailableError });
      });
    }
    return keys;
  }
}

/** The verifier of GitHub Actions ID tokens for `audience`; `discoveryBase` overrides where GitHub's discovery document is (tests). */
export function githubActionsVerifier(audience: string, discoveryBase: string = GITHUB_ISSUER): OidcVerifier {
  return new OidcVerifier(audience, new DiscoveredIssuerKeys(new Map([[GITHUB_ISSUER, discoveryBase]])));
}
