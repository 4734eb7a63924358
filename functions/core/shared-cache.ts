// What a shared cache (CloudFront) may keep. Decided here, at the origin, per response: only
// successful anonymous reads of public content are `public`; everything else — any answer to a
// request that carried credentials, any error, any write — is `private, no-store`, so the cache can
// never hand a private manifest to someone else. Content by digest never changes (a delete purges
// the CDN, docs/auth.md); a tag moves, so its answers live a minute; a blob GET's 307 carries a
// signed URL, so it lives well inside that URL's lifetime.
import type { Principal } from './access.ts';
import type { RegistryRequest, RegistryResponse } from './http.ts';

/** What a cacheable operation answers: content by digest, something that moves (a tag, a tag list), or a redirect to a signed URL. */
export type CacheKind = 'content' | 'moving' | 'redirect';

export const SHARED_CACHE_SECONDS = {
  content: 86_400,
  moving: 60,
  redirect: 300,
  /** The token endpoint's answer to a caller with no credentials (the token lives 300 s). */
  anonymousToken: 60,
  /** The challenge of `GET /v2/` to a caller with no credentials (the same for everyone). */
  challenge: 300,
} as const;
export const NOT_SHARED = 'private, no-store';

/** The Cache-Control of `res`, answered to `principal` by an operation of kind `kind` (undefined: not cacheable). */
export function sharedCacheControl(principal: Principal, kind: CacheKind | undefined, res: RegistryResponse, blobUrlTtlSeconds: number): string {
  const ok = kind === 'redirect' ? res.status === 307 : res.status === 200;
  if (!principal.publicRead || kind === undefined || !ok) return NOT_SHARED;
  const seconds = kind === 'redirect' ? Math.min(SHARED_CACHE_SECONDS.redirect, Math.floor(blobUrlTtlSeconds / 3)) : SHARED_CACHE_SECONDS[kind];
  return `public, max-age=${seconds}`;
}

/**
 * The shared cache in front of the registry, when there is one (CloudFront in AWS): what a delete
 * makes stale is purged. Failures are the adapter's to report; the delete itself stands.
 */
export interface SharedCache {
  /** `req`: the request that made them stale (an adapter may read which cache from it). */
  purge(req: RegistryRequest, paths: readonly string[]): Promise<void>;
}

/** Everything a shared cache may hold of one repository (a single wildcard path: one invalidation path). */
export const repositoryPaths = (repo: string): string[] => [`/v2/${repo}/*`];
