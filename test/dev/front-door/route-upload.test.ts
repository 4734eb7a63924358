// The one routing rule shared by the local front door and the CloudFront viewer-request function.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_API_BODY_BYTES, routeUpload, routeUploadSource } from '../../../dev/front-door/route-upload.ts';

const S = '/v2/team/app/blobs/uploads/0f3e-41aa';
const big = String(MAX_API_BODY_BYTES + 1);

describe('routeUpload', () => {
  const cases: [string, string, Record<string, string>, 'ingest' | 'api', string][] = [
    ['PATCH', S, { 'transfer-encoding': 'chunked' }, 'ingest', 'streamed PATCH (docker)'],
    ['PATCH', S, {}, 'ingest', 'PATCH without Content-Length (HTTP/2 stream of unknown length)'],
    ['PATCH', S, { 'content-length': big }, 'ingest', 'PATCH larger than a Lambda takes'],
    ['PATCH', S, { 'content-length': String(MAX_API_BODY_BYTES) }, 'api', 'PATCH at the limit'],
    ['PATCH', S, { 'content-length': '5000' }, 'api', 'small chunk'],
    ['PUT', `${S}`, { 'content-length': String(512 * 1024 * 1024) }, 'ingest', 'monolithic PUT of a layer (ctr)'],
    ['put', S, { 'content-length': big }, 'ingest', 'method case'],
    ['PUT', S, { 'content-length': '0' }, 'api', 'empty final PUT ?digest='],
    ['PUT', S, { 'content-length': '12x' }, 'api', 'malformed length: the API refuses it'],
    ['POST', '/v2/team/app/blobs/uploads/', { 'content-length': big }, 'ingest', 'monolithic POST too big'],
    ['POST', '/v2/team/app/blobs/uploads/', { 'transfer-encoding': 'chunked' }, 'ingest', 'monolithic POST streamed'],
    ['POST', '/v2/team/app/blobs/uploads/', {}, 'api', 'POST starting a session'],
    ['POST', '/v2/team/app/blobs/uploads', { 'content-length': '10' }, 'api', 'small monolithic POST'],
    ['GET', S, {}, 'api', 'upload status'],
    ['DELETE', S, {}, 'api', 'cancel'],
    ['PUT', '/v2/team/app/manifests/v1', { 'content-length': big }, 'api', 'manifest PUT (the API answers 413)'],
    ['PATCH', '/v2/team/app/blobs/sha256:00', { 'transfer-encoding': 'chunked' }, 'api', 'not an upload path'],
    ['PATCH', '/v2/blobs/uploads/x', { 'transfer-encoding': 'chunked' }, 'api', 'no repository name'],
    ['PATCH', '/v2/a/blobs/uploads/x/y', { 'transfer-encoding': 'chunked' }, 'api', 'extra segment'],
  ];
  it.each(cases)('%s %s %j -> %s (%s)', (method, path, headers, expected) => {
    expect(routeUpload(method, path, headers)).toBe(expected);
  });

  it('exists once: the front door runs the block of the CloudFront viewer-request function', () => {
    const edge = readFileSync(new URL('../../../functions/edge/viewer-request.js', import.meta.url), 'utf8');
    expect(edge.match(/^\/\/ BEGIN route-upload/gm)).toHaveLength(1);
    expect(edge.match(/^function routeUpload\(/gm)).toHaveLength(1);
    expect(routeUploadSource()).toContain('function routeUpload(method, path, headers)');
    // No second copy of the rule on the TypeScript side.
    const front = readFileSync(new URL('../../../dev/front-door/route-upload.ts', import.meta.url), 'utf8');
    expect(front).not.toMatch(/blobs\\\/uploads/);
    expect(front).not.toMatch(/transfer-encoding'\]/);
  });

  it('keeps the base64 event of the largest API body under the 6 MiB Lambda request limit', () => {
    expect(Math.ceil(MAX_API_BODY_BYTES / 3) * 4 + 64 * 1024).toBeLessThanOrEqual(6 * 1024 * 1024);
  });
});
