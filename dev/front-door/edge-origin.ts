// The CloudFront upload behaviour of `start:aws`: the real viewer-request and viewer-response
// functions (run by dev/cloudfront/harness.ts) in front of three origins: S3 (s3rver, standing in
// for the bucket behind Origin Access Control), the ingest service and the API. s3rver verifies no
// checksum, so the S3 stand-in here does what real S3 does with `x-amz-checksum-sha256` on a single
// PUT: it hashes the body as it streams through and refuses (400 BadDigest, object removed) bytes
// that do not match, before the object counts as created.
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nodeHeaders, requestEvent, requestTarget, responseEvent, writeResponse, type CfRequest, type EdgeFunction } from '../cloudfront/harness.ts';
import { matchesPathPattern, UPLOAD_PATH, type EdgeConfig } from '../../functions/edge/source.ts';

export interface EdgeRouting {
  viewerRequest: EdgeFunction;
  viewerResponse: EdgeFunction;
  config: EdgeConfig;
  /** The S3 stand-in: endpoint (path-style) and bucket. */
  s3: { url: string; bucket: string };
  /**
   * Called when the S3 stand-in has decided about an object written through it: `ok` after the
   * checksum matched, else the object was removed. The caller holds back the object-created event
   * until then, as real S3 never announces an object it refused.
   */
  onS3Verdict?: (key: string, ok: boolean) => void;
  /** Called before an S3 PUT is sent, with its key (to hold its event back). */
  onS3Put?: (key: string) => void;
  /**
   * A test fault: S3 refuses the edge PUT as it would if Origin Access Control did not sign the
   * `x-amz-*` headers the viewer-request function adds (403 SignatureDoesNotMatch).
   */
  faultUnsignedHeaders?: boolean;
}

/** Where a request went, for counters and tests. */
export type EdgeDestination = 'edge-refused' | 's3' | 'ingest' | 'api';

export interface EdgeDecision {
  destination: EdgeDestination;
  request?: CfRequest;
}

/** Whether the request falls in the distribution's upload behaviour (its path pattern, as CloudFront matches it). */
export function isUploadPath(path: string): boolean {
  return matchesPathPattern(UPLOAD_PATH, path);
}

/**
 * Runs the viewer-request function: a response it generated is written here (destination
 * 'edge-refused'); otherwise the origin it chose is returned with the request as it left it.
 */
export async function viewerRequest(edge: EdgeRouting, req: IncomingMessage, res: ServerResponse): Promise<EdgeDecision> {
  const event = requestEvent({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, ip: req.socket.remoteAddress ?? '127.0.0.1' });
  const result = await edge.viewerRequest.run(event);
  if (result.kind === 'response') {
    writeResponse(res, result.response);
    return { destination: 'edge-refused' };
  }
  const id = result.origin.kind === 'id' ? result.origin.id : edge.config.apiOrigin;
  const destination: EdgeDestination = id === edge.config.s3Origin ? 's3' : id === edge.config.ingestOrigin ? 'ingest' : 'api';
  return { destination, request: result.request };
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) }).end(body);
}

async function deleteObject(base: URL): Promise<void> {
  await new Promise<void>((resolve) => {
    const del = httpRequest(base, { method: 'DELETE' }, (r) => r.resume().once('end', resolve));
    del.once('error', () => resolve());
    del.end();
  });
}

/**
 * Proxies the function's request to the S3 stand-in, streaming the body and hashing it; then runs the
 * viewer-response function on S3's answer when it is below 400, as CloudFront does. Returns the bytes
 * that went to S3.
 */
export async function toS3(edge: EdgeRouting, request: CfRequest, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const target = requestTarget(request);
  const key = decodeURIComponent(request.uri.slice(1));
  const url = new URL(`/${edge.s3.bucket}${target}`, edge.s3.url);
  const headers = nodeHeaders(request.headers);
  delete headers.host;
  const expected = typeof headers['x-amz-checksum-sha256'] === 'string' ? headers['x-amz-checksum-sha256'] : undefined;
  if (edge.faultUnsignedHeaders && expected !== undefined && request.method === 'PUT') {
    s3Error(res, 403, 'SignatureDoesNotMatch', 'There were headers present in the request which were not signed');
    return 0;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      done(null, chunk);
    },
  });
  edge.onS3Put?.(key);
  const upstream = httpRequest(url, { method: request.method, headers });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
  let reply: IncomingMessage;
  try {
    await pipeline(req, hashing, upstream);
    reply = await answered;
  } catch (e) {
    edge.onS3Verdict?.(key, false);
    if (!res.headersSent) s3Error(res, 500, 'InternalError', e instanceof Error ? e.message : 'S3 stand-in failed');
    return bytes;
  }
  const replyBody: Buffer[] = [];
  for await (const chunk of reply) replyBody.push(chunk as Buffer);
  const status = reply.statusCode ?? 500;
  if (status < 300 && expected !== undefined && hash.digest('base64') !== expected) {
    // What real S3 does with a checksum header that does not match the bytes.
    await deleteObject(url);
    edge.onS3Verdict?.(key, false);
    s3Error(res, 400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    return bytes;
  }
  edge.onS3Verdict?.(key, status < 300);
  if (status >= 400) {
    // CloudFront runs no viewer-response function on origin errors: S3's answer goes out as it is.
    res.writeHead(status, reply.headers).end(Buffer.concat(replyBody));
    return bytes;
  }
  const out = await edge.viewerResponse.run(responseEvent(request, status, reply.headers));
  writeResponse(res, out.kind === 'response' ? out.response : { statusCode: status, statusDescription: '', headers: {} }, Buffer.concat(replyBody));
  return bytes;
}
