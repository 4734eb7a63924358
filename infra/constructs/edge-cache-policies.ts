// The cache and origin-request policies of the edge distribution's behaviours
// (infra/stacks/edge-stack.ts): what each behaviour keeps, what its cache key holds and what it
// forwards to its origin.
import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';

export interface EdgeCachePolicies {
  /** The blob behaviour's: the viewer's location, for the read-routing function. */
  readonly viewerLocation: cloudfront.IOriginRequestPolicy;
  /** The blob behaviour's: immutable content, signature not in the key. */
  readonly blobCache: cloudfront.ICachePolicy;
  /** The API behaviour's: what the origin marks public, Authorization and Accept in the key. */
  readonly apiReads: cloudfront.ICachePolicy;
  /** Behaviour settings for an API origin that caches nothing and forwards every viewer header but Host. */
  readonly passThrough: {
    readonly cachePolicy: cloudfront.ICachePolicy;
    readonly originRequestPolicy: cloudfront.IOriginRequestPolicy;
    readonly viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy;
    readonly compress: boolean;
  };
}

/** The policies, created in `scope` (the edge stack: their construct ids are its own). */
export function edgeCachePolicies(scope: Construct): EdgeCachePolicies {
  // The viewer's location reaches the blob behaviour's function only when a policy names it (the
  // API behaviour's managed AllViewerExceptHostHeader policy includes CloudFront's headers).
  const viewerLocation = new cloudfront.OriginRequestPolicy(scope, 'ViewerLocation', {
    comment: 'The viewer location the read-routing function picks the nearest region by',
    headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList('CloudFront-Viewer-Latitude', 'CloudFront-Viewer-Longitude'),
    queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.none(),
    cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
  });

  // Content-addressed and immutable: one cached copy per edge serves every puller. The signature
  // (Expires, Signature, Key-Pair-Id) is checked by CloudFront and kept out of the cache key.
  const blobCache = new cloudfront.CachePolicy(scope, 'BlobCache', {
    comment: 'Blobs by digest: immutable, signature not in the key',
    defaultTtl: Duration.days(7),
    maxTtl: Duration.days(365),
    minTtl: Duration.seconds(0),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
    headerBehavior: cloudfront.CacheHeaderBehavior.none(),
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    enableAcceptEncodingGzip: false,
    enableAcceptEncodingBrotli: false,
  });

  // The API behaviour keeps what the origin says it may (core/shared-cache.ts): only anonymous
  // reads of public content are `public`, everything else `private, no-store`, and nothing is kept
  // without a Cache-Control that allows it (default TTL 0). Authorization is in the key, so an
  // answer to one caller's credentials can only ever match the same credentials (and the
  // read-routing function drops anonymous tokens, so anonymous pullers share one entry); Accept is
  // in it because a manifest's representation depends on it; every query string (the tag list's
  // pagination).
  const apiReads = new cloudfront.CachePolicy(scope, 'ApiReads', {
    comment: 'API reads: what the origin marks public (anonymous pulls of public projects); Authorization and Accept in the key',
    defaultTtl: Duration.seconds(0),
    minTtl: Duration.seconds(0),
    maxTtl: Duration.days(365),
    headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization', 'Accept'),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    enableAcceptEncodingGzip: false,
    enableAcceptEncodingBrotli: false,
  });

  // The API sees its own Host (API Gateway routes on it): every viewer header but Host, every
  // query string, nothing cached. With caching disabled this policy also forwards Authorization.
  const passThrough = {
    cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
    compress: false,
  };

  return { viewerLocation, blobCache, apiReads, passThrough };
}
