// CloudFront's cache on the API behaviour, for start:aws: it keeps a GET or HEAD answer only when the
// origin's Cache-Control allows a shared cache to (`public` with a max-age, no `private` or
// `no-store`; the cache policy's default TTL is 0), for that long, under the cache policy's key:
// method, path, query string, Authorization and Accept (infra/stacks/edge-stack.ts, "ApiReads").
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Answer } from './apigw-http.ts';

export class CdnCache {
  readonly #entries = new Map<string, { answer: Answer; until: number }>();
  hits = 0;

  /** The cache key of an API Gateway event built from the viewer's request (after the viewer-request function). */
  static keyOf(event: APIGatewayProxyEventV2): string | undefined {
    const method = event.requestContext.http.method;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    return JSON.stringify([method, event.rawPath, event.rawQueryString, event.headers.authorization ?? '', event.headers.accept ?? '']);
  }

  get(key: string, now = Date.now()): Answer | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    this.hits++;
    return { ...e.answer, headers: { ...e.answer.headers, 'x-cache': 'Hit from cloudfront' } };
  }

  put(key: string, answer: Answer, now = Date.now()): void {
    const cc = String(answer.headers['cache-control'] ?? '').toLowerCase();
    const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(cc);
    if (!/(?:^|,)\s*public\b/.test(cc) || /\b(private|no-store|no-cache)\b/.test(cc) || !maxAge || Number(maxAge[1]) <= 0) return;
    this.#entries.set(key, { answer, until: now + Number(maxAge[1]) * 1000 });
  }

  /** An invalidation: every entry whose path starts with one of `prefixes`. */
  purge(prefixes: readonly string[]): void {
    for (const key of this.#entries.keys()) {
      const path = (JSON.parse(key) as string[])[1]!;
      if (prefixes.some((p) => path.startsWith(p))) this.#entries.delete(key);
    }
  }
}
