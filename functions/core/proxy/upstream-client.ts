// A client of one upstream registry: anonymous, Basic, or Docker token authentication (a 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` -> a token from the realm, kept per scope
// until it expires). Credentials are only ever sent in headers: never logged, never in an answer.
import type { UpstreamCredentials } from './model.ts';

/** The upstream could not answer: down, unreachable, 5xx or 429 (rate limit). The cached copy may serve. */
export class UpstreamUnavailableError extends Error {
  readonly status: number | undefined;
  constructor(reason: string, status?: number) {
    super(reason);
    this.name = 'UpstreamUnavailableError';
    this.status = status;
  }
}

export type Fetch = typeof fetch;

interface Token {
  value: string;
  until: number;
}

/** Token lifetime when the token server names none (distribution's token spec: 60 s). */
const DEFAULT_TOKEN_SECONDS = 60;
/** A token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 5000;
/** One upstream request (headers and body) that takes longer is given up (the upstream is down): the default. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The parameters of a `WWW-Authenticate` challenge, and its scheme (lower case). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = /^\s*(\S+)/.exec(header)?.[1]?.toLowerCase() ?? '';
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

const basic = (c: UpstreamCredentials): string => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

export class UpstreamClient {
  readonly #base: string;
  readonly #credentials: () => Promise<UpstreamCredentials | undefined>;
  readonly #fetch: Fetch;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  /** Bearer tokens per scope (one repository's pull). */
  readonly #tokens = new Map<string, Token>();
  /** The upstream asked for Basic once: send it up front from then on. */
  #basic = false;

  constructor(base: string, credentials: () => Promise<UpstreamCredentials | undefined>, opts: { fetch?: Fetch; now?: () => number; timeoutMs?: number } = {}) {
    this.#base = base;
    this.#credentials = credentials;
    this.#fetch = opts.fetch ?? fetch;
    this.#now = opts.now ?? Date.now;
    this.#timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /**
   * `method` on `/v2/<repository>/<path>` upstream, authenticated as the upstream asks. Answers as
   * the upstream does (404, 401 when refused even with credentials); throws UpstreamUnavailableError
   * when it cannot (network error, timeout, 5xx, 429).
   */
  async request(method: 'GET' | 'HEAD', repository: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
    const url = `${this.#base}/v2/${repository}/${path}`;
    const scope = `repository:${repository}:pull`;
    let res = await this.#send(url, method, { ...headers, ...(await this.#authorization(scope)) });
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate');
      await res.body?.cancel();
      const auth = challenge ? await this.#answer(challenge, scope) : undefined;
      if (auth) res = await this.#send(url, method, { ...headers, ...auth });
    }
    if (res.status === 429 || res.status >= 500) {
      await res.body?.cancel();
      throw new UpstreamUnavailableError(`upstream answered ${res.status}`, res.status);
    }
    return res;
  }

  async #send(url: string, method: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.#fetch(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (e) {
      throw new UpstreamUnavailableError(`upstream unreachable: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
  }

  async #authorization(scope: string): Promise<Record<string, string>> {
    const token = this.#tokens.get(scope);
    if (token && token.until > this.#now()) return { authorization: `Bearer ${token.value}` };
    if (this.#basic) {
      const c = await this.#credentials();
      if (c) return { authorization: basic(c) };
    }
    return {};
  }

  /** The Authorization header that answers a challenge, or undefined when there is none to give. */
  async #answer(challenge: string, scope: string): Promise<Record<string, string> | undefined> {
    const { scheme, params } = parseChallenge(challenge);
    const credentials = await this.#credentials();
    if (scheme === 'basic') {
      if (!credentials) return undefined;
      this.#basic = true;
      return { authorization: basic(credentials) };
    }
    if (scheme !== 'bearer' || !params.realm) return undefined;
    const token = await this.#token(params.realm, params.service, params.scope ?? scope, credentials);
    if (!token.value) return undefined;
    this.#tokens.set(scope, token);
    if (this.#tokens.size > 10_000) this.#tokens.clear();
    return { authorization: `Bearer ${token.value}` };
  }

  /** A token from the realm (distribution's token spec: GET with service and scope, Basic credentials if any). */
  async #token(realm: string, service: string | undefined, scope: string, credentials: UpstreamCredentials | undefined): Promise<Token> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UpstreamUnavailableError('upstream token realm is not a URL');
    }
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const started = this.#now();
    const res = await this.#send(url.href, 'GET', credentials ? { authorization: basic(credentials) } : {});
    if (!res.ok) {
      await res.body?.cancel();
      if (res.status === 429 || res.status >= 500) throw new UpstreamUnavailableError(`upstream token server answered ${res.status}`, res.status);
      // Refused: the retried request goes without a token and comes back 401.
      return { value: '', until: 0 };
    }
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const value = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { value, until: started + seconds * 1000 - TOKEN_MARGIN_MS };
  }
}
