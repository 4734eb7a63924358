// The token realm of an AWS environment without a domain: its public URL is the CloudFront
// distribution's own host name (d111111abcdef8.cloudfront.net), which exists only after the API it
// points at, so it cannot be in the API's environment. The CloudFront Functions in front of the API
// and the ingest service (functions/edge/read-routing.js, viewer-request.js) write it into every
// request they pass on, overwriting whatever a viewer sent, from the event's
// context.distributionDomainName; requests that bypass CloudFront are refused by the origin guard.
// Only a cloudfront.net host name is taken, so the realm can never name another site.
import { header, type RegistryRequest } from '../core/http.ts';

export const PUBLIC_HOST_HEADER = 'x-registry-host';
const CLOUDFRONT_HOST = /^[a-z0-9]{1,63}\.cloudfront\.net$/;

/** `https://<distribution host>/token`, from the header CloudFront set; undefined without one. */
export function edgeRealm(req: RegistryRequest): string | undefined {
  const host = header(req, PUBLIC_HOST_HEADER);
  return host !== undefined && CLOUDFRONT_HOST.test(host) ? `https://${host}/token` : undefined;
}
