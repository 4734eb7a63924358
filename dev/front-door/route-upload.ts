// Where an upload request goes: the streaming ingest service or the API Lambda (docs/edge.md). The
// rule's code exists once, in the CloudFront viewer-request function (functions/edge/viewer-request.js,
// between its BEGIN/END route-upload markers); the local front door evaluates that same block here, so
// the front door and the edge cannot disagree.
import { readFileSync } from 'node:fs';
import { Script, createContext } from 'node:vm';

export type Destination = 'ingest' | 'api';

type Rule = (method: string, path: string, headers: Record<string, string | undefined>) => Destination;

const RULE_BLOCK = /^\/\/ BEGIN route-upload[^\n]*\n([\s\S]*?)^\/\/ END route-upload$/m;

/** The routing rule's code, as the viewer-request function holds it. */
export function routeUploadSource(): string {
  const source = readFileSync(new URL('../../functions/edge/viewer-request.js', import.meta.url), 'utf8');
  const block = RULE_BLOCK.exec(source)?.[1];
  if (block === undefined) throw new Error('functions/edge/viewer-request.js has no route-upload block');
  return block;
}

const rule = new Script(`${routeUploadSource()}\n({ routeUpload: routeUpload, maxApiBodyBytes: MAX_API_BODY_BYTES })`, {
  filename: 'functions/edge/viewer-request.js#route-upload',
}).runInContext(createContext({}), { timeout: 1000 }) as { routeUpload: Rule; maxApiBodyBytes: number };

/**
 * Largest raw body the API Lambda takes: Lambda accepts 6 MiB of event JSON, and API Gateway sends
 * binary bodies base64-encoded (4/3 larger), which leaves 4.5 MiB; 64 KiB of it are kept for the
 * rest of the event (headers, request context). Larger bodies, and bodies of unknown length, go to
 * the ingest service.
 */
export const MAX_API_BODY_BYTES: number = rule.maxApiBodyBytes;

/**
 * `headers`: lower-cased names. Upload PATCH/PUT on a session whose body is streamed (chunked, or no
 * Content-Length: over HTTP/2 a body's length may be unknown) or larger than MAX_API_BODY_BYTES go
 * to ingest, and so does a monolithic POST whose body is chunked or too large; everything else
 * (including a malformed Content-Length, for the API to refuse) goes to the API.
 */
export function routeUpload(method: string, path: string, headers: Record<string, string | undefined>): Destination {
  return rule.routeUpload(method, path, headers);
}
