// The smoke test's HTTP client: fetch with a timeout, and Docker token auth when the registry asks
// for it (a 401 Bearer challenge: one token from the realm, with Basic credentials if given, for
// every scope the smoke needs).
export interface Credentials {
  user: string;
  password: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  ms: number;
}

export class SmokeClient {
  readonly base: string;
  readonly #creds: Credentials | undefined;
  readonly #timeoutMs: number;
  #token: string | undefined;

  constructor(base: string, creds: Credentials | undefined, timeoutMs: number) {
    this.base = base.replace(/\/+$/, '');
    this.#creds = creds;
    this.#timeoutMs = timeoutMs;
  }

  /** A request to the registry (a path) or anywhere (a URL), with the token when there is one. */
  async send(target: string, init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {}, opts: { auth?: boolean } = {}): Promise<Reply> {
    const url = target.startsWith('http') ? target : `${this.base}${target}`;
    const headers: Record<string, string> = { ...init.headers };
    if (this.#token && opts.auth !== false && url.startsWith(this.base)) headers.authorization = `Bearer ${this.#token}`;
    const started = performance.now();
    const res = await fetch(url, { redirect: 'manual', ...init, headers, signal: AbortSignal.timeout(this.#timeoutMs) });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, ms: Math.round(performance.now() - started) };
  }

  /**
   * Answers the registry's challenge, if any: a token for `scopes` from the realm. Returns what went
   * wrong, or undefined (no challenge, or a token was had).
   */
  async login(challenge: string | null, scopes: string[]): Promise<string | undefined> {
    if (!challenge) return undefined;
    if (!this.#creds) return 'this registry needs credentials: give --user (password in REGISTRY_PASSWORD or on stdin)';
    const m = /^Bearer (.*)$/i.exec(challenge);
    if (!m) return `the registry asks for ${challenge.split(' ')[0]} authentication, not Bearer tokens`;
    const params = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (!params.realm) return 'the challenge names no realm';
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.#creds) headers.authorization = `Basic ${Buffer.from(`${this.#creds.user}:${this.#creds.password}`).toString('base64')}`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(this.#timeoutMs) });
    if (res.status !== 200) return `the token endpoint ${url.origin}${url.pathname} answered ${res.status}${this.#creds ? '' : ' (no credentials given: --user)'}`;
    this.#token = ((await res.json()) as { token?: string; access_token?: string }).token;
    return this.#token ? undefined : 'the token endpoint answered no token';
  }
}
