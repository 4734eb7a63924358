// Only CloudFront may call the API. Every origin request the distribution sends to an API Gateway
// origin carries a custom origin header whose value is a generated secret (CloudFront overwrites a
// header of that name that a viewer sends); a request without it came straight to the API Gateway
// URL, bypassing the edge's functions, WAF, caching and the domain clients authenticate against, and
// is refused with 403 before the registry sees it. The secret lives in Secrets Manager
// (oci-registry/<env>/origin-verify, replicated to every region with an API and to us-east-1, where
// the distribution's template resolves it); docs/deploy.md has its rotation.
import { timingSafeEqual } from 'node:crypto';
import { ociErrorBody } from '../core/errors.ts';
import { API_VERSION_HEADERS, header, jsonResponse, type RegistryRequest } from '../core/http.ts';
import type { Registry } from '../core/registry.ts';

/** The header CloudFront adds to every request to an API origin (infra/stacks/edge-stack.ts). */
export const ORIGIN_SECRET_HEADER = 'x-registry-origin-verify';

function matches(given: string | undefined, secrets: readonly string[]): boolean {
  if (given === undefined) return false;
  const g = Buffer.from(given);
  let ok = false;
  // Every listed secret is compared (the current one and, during a rotation, the previous one).
  for (const s of secrets) {
    const b = Buffer.from(s);
    if (b.length === g.length && timingSafeEqual(b, g)) ok = true;
  }
  return ok;
}

/** `secrets`: the values CloudFront may send (empty: no guard, e.g. the ingest service behind its VPC origin). */
export function originGuard(registry: Registry, secrets: readonly string[]): Registry {
  if (secrets.length === 0) return registry;
  return async (req: RegistryRequest) => {
    if (matches(header(req, ORIGIN_SECRET_HEADER), secrets)) return registry(req);
    const res = jsonResponse(403, ociErrorBody('DENIED', 'requested access to the resource is denied', {
      reason: "the registry is served through its own domain (CloudFront): its regional API endpoint does not answer direct calls",
    }), { 'cache-control': 'no-store', ...API_VERSION_HEADERS });
    if (req.method === 'HEAD') delete res.body;
    return res;
  };
}
