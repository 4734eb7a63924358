// What a region's API answers before the registry sees a request. A replica region's API takes
// reads only: every write is made in the primary region (DynamoDB global tables reconcile
// concurrent writes in different regions last-writer-wins, and a transaction is atomic only in the
// region that runs it), so a write that reaches a replica (a direct call; the distribution never
// sends one) gets 503 naming the primary, not a permission error from its read-only role. And any
// region answers the page CloudFront shows, as a 503, when an origin is unreachable or silent.
import { ociErrorBody } from '../core/errors.ts';
import { API_VERSION_HEADERS, jsonResponse, type RegistryRequest, type RegistryResponse } from '../core/http.ts';
import type { Registry } from '../core/registry.ts';
import { UNAVAILABLE_PAGE_PATH } from '../edge/source.ts';

const READS = new Set(['GET', 'HEAD']);
const NO_STORE = { 'cache-control': 'no-store', ...API_VERSION_HEADERS };

function answer(status: number, body: unknown, method: string, headers: Record<string, string> = {}): RegistryResponse {
  const res = jsonResponse(status, body, { ...NO_STORE, ...headers });
  if (method === 'HEAD') delete res.body;
  return res;
}

/**
 * The body of CloudFront's 503 (its custom error response for 502 and 504 fetches this path with
 * GET and sends it with status 503): served with 200, as CloudFront needs a page to send.
 */
export const UNAVAILABLE_PAGE = ociErrorBody('UNAVAILABLE', 'service unavailable', {
  reason: 'the registry\'s origin did not answer (unreachable or timed out): writes fail until it is back; pulls are served from any region that answers. Retry later.',
});

/** `region`: where this API runs; `primaryRegion`: where writes go (undefined: this is the only region). */
export function regionalApi(registry: Registry, region: string, primaryRegion: string | undefined): Registry {
  const replica = primaryRegion !== undefined && primaryRegion !== region;
  return async (req: RegistryRequest) => {
    if (req.path === UNAVAILABLE_PAGE_PATH && READS.has(req.method)) return answer(200, UNAVAILABLE_PAGE, req.method);
    if (replica && !READS.has(req.method)) {
      return answer(503, ociErrorBody('UNAVAILABLE', 'service unavailable', {
        reason: `this is the read replica in ${region}: writes go to the primary region ${primaryRegion} (use the registry's own address, not a regional API endpoint)`,
        primaryRegion,
      }), req.method, { 'retry-after': '30' });
    }
    return registry(req);
  };
}
