// Conversions between API Gateway v2 events/results and the core's request/response shapes.
import { describe, expect, it } from 'vitest';
import { eventToRequest, LAMBDA_RESPONSE_LIMIT, responseToResult } from '../../../functions/apps/api-lambda/apigw-event.ts';
import type { RegistryResponse } from '../../../functions/core/http.ts';
import { apiEvent } from './events.ts';

async function bytesOf(body: AsyncIterable<Uint8Array> | undefined): Promise<Buffer | undefined> {
  if (!body) return undefined;
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts);
}

async function* chunks(total: number, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 7);
}

describe('eventToRequest', () => {
  it('keeps the raw path, every repeated query parameter, and lower-cased headers', () => {
    const event = apiEvent('PUT', '/v2/r/x/manifests/sha256:abc?tag=a&tag=b&_state=tok%2Fen', { headers: { 'Content-Type': 'application/json' } });
    // A hand-made event with a duplicate differing only in case: joined the http.ts way.
    event.headers['X-Thing'] = 'one';
    event.headers['x-thing'] = 'two';
    const { request } = eventToRequest(event);
    expect(request.method).toBe('PUT');
    expect(request.path).toBe('/v2/r/x/manifests/sha256:abc');
    expect(request.query.getAll('tag')).toEqual(['a', 'b']);
    expect(request.query.get('_state')).toBe('tok/en');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-thing']).toBe('one, two');
    expect(request.body).toBeUndefined();
  });

  it('decodes a base64 body byte for byte, and a text body as UTF-8', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x0a]);
    const bin = eventToRequest(apiEvent('PATCH', '/v2/r/x/blobs/uploads/u1', { body: bytes }));
    expect(bin.bodyBytes).toBe(6);
    expect(await bytesOf(bin.request.body)).toEqual(bytes);
    const text = eventToRequest(apiEvent('PUT', '/v2/r/x/manifests/v1', { body: '{"é":1}' }));
    expect(await bytesOf(text.request.body)).toEqual(Buffer.from('{"é":1}'));
    expect(text.bodyBytes).toBe(Buffer.byteLength('{"é":1}'));
  });

  it('ignores cookies and treats an empty body as none', () => {
    const e = apiEvent('GET', '/v2/', { cookies: ['session=secret'] });
    e.body = '';
    const { request, bodyBytes } = eventToRequest(e);
    expect(request.body).toBeUndefined();
    expect(bodyBytes).toBe(0);
    expect(JSON.stringify(request.headers)).not.toContain('secret');
  });
});

describe('responseToResult', () => {
  const json: RegistryResponse = { status: 404, headers: { 'content-type': 'application/json', 'content-length': '13' }, body: '{"errors":[]}', errorCode: 'BLOB_UNKNOWN' };

  it('sends string bodies as text and byte bodies as base64', async () => {
    const text = await responseToResult(json, 'GET');
    expect(text.result).toMatchObject({ statusCode: 404, body: '{"errors":[]}', isBase64Encoded: false });
    expect(text.errorCode).toBe('BLOB_UNKNOWN');
    const bytes = Buffer.from([1, 2, 250, 0]);
    const bin = await responseToResult({ status: 200, headers: { 'content-length': '4' }, body: bytes }, 'GET');
    expect(bin.result.isBase64Encoded).toBe(true);
    expect(Buffer.from(bin.result.body ?? '', 'base64')).toEqual(bytes);
    expect(bin.bodyBytes).toBe(4);
  });

  it('collects a streamed body', async () => {
    const out = await responseToResult({ status: 200, headers: {}, body: chunks(200_000) }, 'GET');
    expect(Buffer.from(out.result.body ?? '', 'base64').byteLength).toBe(200_000);
  });

  it('HEAD: no body, but the Content-Length of the GET body', async () => {
    const out = await responseToResult({ ...json, body: undefined }, 'HEAD');
    expect(out.result.body).toBeUndefined();
    expect(out.result.headers?.['content-length']).toBe('13');
    const withBody = await responseToResult(json, 'HEAD');
    expect(withBody.result.body).toBeUndefined();
    expect(withBody.bodyBytes).toBe(0);
  });

  it('Set-Cookie goes to cookies (payload 2.0 has no multi-value headers)', async () => {
    const out = await responseToResult({ status: 200, headers: { 'Set-Cookie': 'a=1', 'x-y': 'v' } }, 'GET');
    expect(out.result.cookies).toEqual(['a=1']);
    expect(out.result.headers).toEqual({ 'x-y': 'v' });
  });

  it('a body past Lambda 6 MB response limit becomes an OCI error, not a failed invocation', async () => {
    // 4.6 MiB of bytes is 6.1 MiB of base64: over the limit once serialized.
    const big = Buffer.alloc(Math.ceil(4.6 * 1024 * 1024), 1);
    for (const body of [big, chunks(big.byteLength)]) {
      const out = await responseToResult({ status: 200, headers: { 'content-length': String(big.byteLength) }, body }, 'GET');
      expect(out.result.statusCode).toBe(500);
      expect(out.errorCode).toBe('UNKNOWN');
      expect(JSON.parse(out.result.body ?? '')).toMatchObject({ errors: [{ code: 'UNKNOWN', detail: { reason: expect.stringContaining('response payload limit') } }] });
      expect(Buffer.byteLength(JSON.stringify(out.result))).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
    }
    // 4 MiB (a maximal manifest) still fits.
    const ok = await responseToResult({ status: 200, headers: {}, body: Buffer.alloc(4 * 1024 * 1024, 2) }, 'GET');
    expect(ok.result.statusCode).toBe(200);
    expect(Buffer.byteLength(JSON.stringify(ok.result))).toBeLessThanOrEqual(LAMBDA_RESPONSE_LIMIT);
  });

  it('stops reading a streamed body as soon as it cannot fit', async () => {
    let produced = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          produced += 1024 * 1024;
          yield Buffer.alloc(1024 * 1024);
        }
      } finally {
        closed = true;
      }
    }
    const out = await responseToResult({ status: 200, headers: {}, body: endless() }, 'GET');
    expect(out.result.statusCode).toBe(500);
    expect(produced).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(closed).toBe(true);
  });
});
