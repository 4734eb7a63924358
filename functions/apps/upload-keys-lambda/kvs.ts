// The three CloudFront KeyValueStore calls the upload-keys publisher makes (REST JSON, SigV4A):
// DescribeKeyValueStore (for the ETag every write must send as If-Match), ListKeys and UpdateKeys.
import { signV4a, uriEscape, type Credentials } from './sigv4a.ts';

export const SERVICE = 'cloudfront-keyvaluestore';

export interface KvsItem {
  readonly Key: string;
  readonly Value: string;
}

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export class KvsError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${code} (${status}): ${message}`);
    this.name = 'KvsError';
    this.status = status;
    this.code = code;
  }
}

export interface KvsClientOptions {
  readonly credentials: () => Credentials;
  readonly fetch?: Fetch;
  readonly now?: () => Date;
  /** Override https://<account>.cloudfront-kvs.global.api.aws (tests). */
  readonly endpoint?: (account: string) => string;
}

/** `arn:aws:cloudfront::<account>:key-value-store/<id>` -> account. */
export function kvsAccount(arn: string): string {
  const m = /^arn:aws:cloudfront::(\d{12}):key-value-store\/[A-Za-z0-9-]+$/.exec(arn);
  if (!m) throw new Error(`not a KeyValueStore ARN: ${JSON.stringify(arn)}`);
  return m[1]!;
}

export class KvsClient {
  readonly #opts: KvsClientOptions;

  constructor(opts: KvsClientOptions) {
    this.#opts = opts;
  }

  async #call(arn: string, method: string, suffix: string, opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: unknown } = {}) {
    const base = (this.#opts.endpoint ?? ((a) => `https://${a}.cloudfront-kvs.global.api.aws`))(kvsAccount(arn));
    const url = new URL(base);
    const path = `/key-value-stores/${uriEscape(arn)}${suffix}`;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const signed = signV4a(
      { method, host: url.host, path, ...(opts.query ? { query: opts.query } : {}), headers: { ...opts.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body } : {}) },
      { credentials: this.#opts.credentials(), service: SERVICE, regionSet: '*', date: (this.#opts.now ?? (() => new Date()))() },
    );
    const qs = opts.query && Object.keys(opts.query).length ? `?${new URLSearchParams(opts.query).toString()}` : '';
    const { host: _host, ...headers } = signed.headers;
    const res = await (this.#opts.fetch ?? (fetch as unknown as Fetch))(`${url.origin}${path}${qs}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (res.status >= 300) {
      const code = String(res.headers.get('x-amzn-errortype') ?? json.__type ?? json.code ?? 'Error').split(':')[0]!.replace(/^.*#/, '');
      throw new KvsError(res.status, code, String(json.Message ?? json.message ?? text));
    }
    return { json, etag: res.headers.get('etag') ?? (json.ETag as string | undefined) };
  }

  /** The store's status and the ETag the next write must send. */
  async describe(arn: string): Promise<{ etag: string; status: string }> {
    const { json, etag } = await this.#call(arn, 'GET', '');
    if (!etag) throw new Error('DescribeKeyValueStore returned no ETag');
    return { etag, status: String(json.Status ?? '') };
  }

  async listKeys(arn: string): Promise<KvsItem[]> {
    const items: KvsItem[] = [];
    let next: string | undefined;
    do {
      const { json } = await this.#call(arn, 'GET', '/keys', { query: { MaxResults: '50', ...(next ? { NextToken: next } : {}) } });
      items.push(...((json.Items as KvsItem[] | undefined) ?? []));
      next = json.NextToken as string | undefined;
    } while (next);
    return items;
  }

  /** Puts and deletes in one write, conditional on `etag`. Returns the new ETag. */
  async updateKeys(arn: string, etag: string, puts: readonly KvsItem[], deletes: readonly string[]): Promise<string | undefined> {
    const body = { ...(puts.length ? { Puts: puts } : {}), ...(deletes.length ? { Deletes: deletes.map((Key) => ({ Key })) } : {}) };
    const { etag: next } = await this.#call(arn, 'POST', '/keys', { headers: { 'if-match': etag }, body });
    return next;
  }
}
