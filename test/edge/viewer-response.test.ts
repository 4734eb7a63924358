// The viewer-response function: S3's 200 to the fast path's PUT becomes the 201 clients require, with
// Location and Docker-Content-Digest and without S3's own headers; every other response passes as is.
import { describe, expect, it } from 'vitest';
import { responseEvent, type CfRequest, type CfResponse, type RunResult } from '../../dev/cloudfront/harness.ts';
import { edgeSetup, event, put, session, sha256Hex } from './fixtures.ts';

const HEX = sha256Hex('layer bytes');
const DIGEST = `sha256:${HEX}`;
/** What S3 answers a PutObject that carried x-amz-checksum-sha256. */
const S3_HEADERS = {
  'x-amz-id-2': 'Jn4A2dLq5qGmQ0bLzTq3eEx1',
  'x-amz-request-id': 'C3D13FE58DE4C810',
  'x-amz-checksum-sha256': Buffer.from(HEX, 'hex').toString('base64'),
  'x-amz-server-side-encryption': 'AES256',
  etag: '"1b2cf535f27731c974343645a3985328"',
  server: 'AmazonS3',
  'content-length': '0',
  date: 'Mon, 30 Nov 2026 06:00:00 GMT',
};

function response(r: RunResult): CfResponse {
  expect(r.kind).toBe('response');
  if (r.kind !== 'response') throw new Error('not a response');
  return r.response;
}

describe('viewer response', () => {
  const edge = edgeSetup();
  const s = session(edge.signer, 'team/app');

  async function viaS3(): Promise<{ original: CfRequest; rewritten: CfRequest }> {
    const e = put(s.location, DIGEST, 1234, { 'content-type': 'application/octet-stream' });
    const r = await edge.request.run(e);
    if (r.kind !== 'request') throw new Error('expected the fast path');
    return { original: e.request, rewritten: r.request };
  }

  function expectCreated(res: CfResponse): void {
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toEqual({ value: `/v2/${s.repo}/blobs/${DIGEST}` });
    expect(res.headers['docker-content-digest']).toEqual({ value: DIGEST });
    for (const name of Object.keys(res.headers)) expect(name === 'etag' || name === 'server' || name.startsWith('x-amz-'), name).toBe(false);
    // Read-only in CloudFront's viewer response: kept as S3 sent it.
    expect(res.headers['content-length']).toEqual({ value: '0' });
    expect(res.headers.date).toEqual({ value: S3_HEADERS.date });
  }

  it("turns S3's 200 into 201 with Location and Docker-Content-Digest (request as the viewer-request function left it)", async () => {
    const { rewritten } = await viaS3();
    expectCreated(response(await edge.response.run(responseEvent(rewritten, 200, S3_HEADERS))));
  });

  it('does the same when CloudFront hands over the request as the viewer sent it', async () => {
    const { original } = await viaS3();
    expectCreated(response(await edge.response.run(responseEvent(original, 200, S3_HEADERS))));
  });

  it("leaves the API's and ingest's answers alone", async () => {
    const { original } = await viaS3();
    const apiCreated = { location: `/v2/${s.repo}/blobs/${DIGEST}`, 'docker-content-digest': DIGEST, 'content-length': '0' };
    const cases: [CfRequest, number, Record<string, string>][] = [
      [original, 201, apiCreated],
      [original, 202, { location: s.location, range: '0-1233', 'content-length': '0' }],
      [original, 204, {}],
      [event('PATCH', s.location).request, 202, { location: s.location, range: '0-99' }],
      [event('GET', s.location).request, 200, { 'content-length': '0', range: '0-99' }],
      [event('PUT', `/v2/${s.repo}/manifests/v1`).request, 200, { etag: '"x"' }],
      [event('GET', `/v2/${s.repo}/blobs/${DIGEST}`).request, 200, { etag: '"x"', 'x-amz-request-id': 'R' }],
    ];
    for (const [request, status, headers] of cases) {
      const e = responseEvent(request, status, headers);
      expect(response(await edge.response.run(e))).toEqual(e.response);
    }
  });

  it('a 200 to a PUT on an upload path without a sha256 digest is left alone', async () => {
    const e = responseEvent(event('PUT', `${s.location}&digest=sha512:${'ab'.repeat(64)}`).request, 200, S3_HEADERS);
    expect(response(await edge.response.run(e))).toEqual(e.response);
  });

  it('may not choose an origin (viewer response functions cannot)', async () => {
    const { rewritten } = await viaS3();
    const r = await edge.response.run(responseEvent(rewritten, 200, S3_HEADERS));
    expect(r.origin).toEqual({ kind: 'default' });
  });
});
