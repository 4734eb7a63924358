// The code of the two CloudFront Functions as deployed: the plain JS files next to this module, with
// the viewer-request function's deploy-time settings written into its one CONFIG line. The CDK stack
// and the local harness both take the code from here, so what is tested is what is deployed.
import { readFileSync } from 'node:fs';

export type EdgeFunctionName = 'viewer-request' | 'viewer-response';

export interface EdgeConfig {
  /** Whether an ingest origin exists; without it, bodies routeUpload sends to ingest are refused (413). */
  ingest: boolean;
  /**
   * The edge fast path: monolithic PUTs straight to S3 (true), or routed like every other upload
   * request, to ingest or the API (false: the switch for a deployment whose S3 refuses them).
   */
  edgeUploads: boolean;
  /** Origin ids on the distribution (cf.selectRequestOriginById). */
  s3Origin: string;
  ingestOrigin: string;
  apiOrigin: string;
}

/** CloudFront Functions' limit on a function's code. */
export const EDGE_FUNCTION_MAX_BYTES = 10 * 1024;

/** The KeyValueStore key holding an upload-token key (its secret, base64). */
export const uploadKeyName = (kid: string): string => `upload-key-${kid}`;

const CONFIG_LINE = /^var CONFIG = \{[^\n]*\};$/m;
const ORIGIN_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function edgeFunctionFile(name: EdgeFunctionName): URL {
  return new URL(`./${name}.js`, import.meta.url);
}

/** The function's code, with `config` written in (viewer-request only; the file's defaults otherwise). */
export function edgeFunctionSource(name: EdgeFunctionName, config?: EdgeConfig): string {
  const source = readFileSync(edgeFunctionFile(name), 'utf8');
  if (config === undefined) return source;
  if (name !== 'viewer-request') throw new Error(`${name} takes no settings`);
  for (const id of [config.s3Origin, config.ingestOrigin, config.apiOrigin]) {
    if (!ORIGIN_ID.test(id)) throw new Error(`invalid origin id: ${JSON.stringify(id)}`);
  }
  if (!CONFIG_LINE.test(source)) throw new Error('viewer-request.js has no CONFIG line');
  const value = { ingest: config.ingest === true, edgeUploads: config.edgeUploads === true, s3Origin: config.s3Origin, ingestOrigin: config.ingestOrigin, apiOrigin: config.apiOrigin };
  return source.replace(CONFIG_LINE, () => `var CONFIG = ${JSON.stringify(value)};`);
}

/** The CloudFront cache behaviour the viewer-request function runs on: every upload path. */
export const UPLOAD_PATH = '/v2/*/blobs/uploads/*';

/**
 * Paths no OCI client ever writes to: safe for a GET/HEAD-only failover behaviour. Referrers only by
 * digest: a repository may itself be named .../referrers, a digest never appears in a repository
 * name (no ':').
 */
export const READ_ONLY_PATHS: readonly string[] = ['/v2/*/tags/list', '/v2/*/referrers/sha256:*', '/v2/*/referrers/sha512:*', '/v2/_catalog', '/v2/'];

/**
 * Whether CloudFront's path pattern matches `path`: `*` stands for any characters (slashes
 * included), `?` for exactly one, everything else for itself (case-sensitive).
 */
export function matchesPathPattern(pattern: string, path: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(path);
}
