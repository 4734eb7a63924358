// The code of the CloudFront Functions as deployed: the plain JS files next to this module, with
// each function's deploy-time settings written into its one CONFIG line. The CDK stack
// and the local harness both take the code from here, so what is tested is what is deployed.
import { readFileSync } from 'node:fs';

export type EdgeFunctionName = 'viewer-request' | 'viewer-response' | 'read-routing';

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

/** The read-routing function's settings: the regions and their origins on the distribution. */
export interface ReadRoutingConfig {
  /** The region every write goes to. */
  primary: string;
  /** The region the primary's reads fail over to ('' with one region). */
  fallback: string;
  /** [region, latitude, longitude] of every region, the primary first. */
  regions: [string, number, number][];
  /** Origin id of each region's API. */
  api: Record<string, string>;
  /** Origin id of each region's blob bucket. */
  blobs: Record<string, string>;
  /** Origin id of the web interface's bucket, where a read of `/` goes (absent or '': the API's). */
  ui?: string;
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

/** The function's code, with `config` written in (the file's defaults without one; viewer-response takes none). */
export function edgeFunctionSource(name: EdgeFunctionName, config?: EdgeConfig | ReadRoutingConfig): string {
  const source = readFileSync(edgeFunctionFile(name), 'utf8');
  if (config === undefined) return source;
  if (name === 'viewer-response') throw new Error(`${name} takes no settings`);
  const value = name === 'viewer-request' ? uploadSettings(config as EdgeConfig) : readRoutingSettings(config as ReadRoutingConfig);
  if (!CONFIG_LINE.test(source)) throw new Error(`${name}.js has no CONFIG line`);
  return source.replace(CONFIG_LINE, () => `var CONFIG = ${JSON.stringify(value)};`);
}

function originId(id: unknown): string {
  if (typeof id !== 'string' || !ORIGIN_ID.test(id)) throw new Error(`invalid origin id: ${JSON.stringify(id)}`);
  return id;
}

function uploadSettings(config: EdgeConfig): EdgeConfig {
  return {
    ingest: config.ingest === true,
    edgeUploads: config.edgeUploads === true,
    s3Origin: originId(config.s3Origin),
    ingestOrigin: originId(config.ingestOrigin),
    apiOrigin: originId(config.apiOrigin),
  };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function readRoutingSettings(config: ReadRoutingConfig): ReadRoutingConfig {
  const names = config.regions.map(([name]) => name);
  if (names[0] !== config.primary) throw new Error('read routing: the primary region comes first');
  if (config.fallback !== '' && (config.fallback === config.primary || !names.includes(config.fallback))) throw new Error(`read routing: bad fallback region ${JSON.stringify(config.fallback)}`);
  const regions: [string, number, number][] = config.regions.map(([name, lat, lon]) => {
    if (!REGION.test(name) || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) throw new Error(`read routing: bad region ${JSON.stringify([name, lat, lon])}`);
    return [name, lat, lon];
  });
  const ids = (map: Record<string, string>) => Object.fromEntries(names.map((n) => [n, originId(map[n])]));
  return { primary: config.primary, fallback: config.fallback, regions, api: ids(config.api), blobs: ids(config.blobs), ui: config.ui ? originId(config.ui) : '' };
}

/** The CloudFront cache behaviour the viewer-request function runs on: every upload path. */
export const UPLOAD_PATH = '/v2/*/blobs/uploads/*';

/**
 * The page CloudFront answers with (as a 503) when an origin is unreachable or silent: the API's
 * OCI error for it (functions/apps/api-lambda/unavailable-page.ts). No repository name starts with
 * `_`, so no repository route can take this path.
 */
export const UNAVAILABLE_PAGE_PATH = '/v2/_registry/unavailable';

/**
 * The web interface's behaviours (docs/ui.md): its hashed assets and icon, and its page by name.
 * `/` itself is on the API behaviour, whose read-routing function sends its reads to the page.
 */
export const UI_ASSET_PATH = '/ui/*';
export const UI_PAGE_PATH = '/index.html';

/**
 * Whether CloudFront's path pattern matches `path`: `*` stands for any characters (slashes
 * included), `?` for exactly one, everything else for itself (case-sensitive).
 */
export function matchesPathPattern(pattern: string, path: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(path);
}
