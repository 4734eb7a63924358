// Requests whose body ends early (half-close, reset, malformed chunks) or runs on past its length:
// the upload session, blobs and tags must show exactly what was acknowledged, nothing more.
import { describeResult, headerValue, locationPath, prng, send, sha256, withQuery } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { MF, REPO, SEED } from './config.ts';
import type { Ctx } from './fixtures.ts';
import { raw, statusLines, type RawResult } from './raw-socket.ts';

/** Cuts requests short on the upload session at `loc` and elsewhere; returns what went wrong. */
export async function cutShortFailures(base: URL, port: number, ctx: Ctx, loc: string): Promise<string[]> {
  const failures: string[] = [];
  const status = async (why: string, range: string): Promise<void> => {
    const res = await send(base, { method: 'GET', path: loc });
    if (res.status !== 204 || headerValue(res, 'range') !== range) failures.push(`${why}: GET upload -> ${res.status} Range ${headerValue(res, 'range')}, expected 204 Range ${range}`);
  };
  const head = async (headers: string, mode: 'half' | 'destroy' | 'keep', parts: (Buffer | string)[]): Promise<RawResult> => {
    const r = await raw(port, [headers, ...parts], mode, 3000);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the server notice the cut
    return r;
  };
  // PATCH announcing 1000 bytes, sending 10, then half-close / reset / go quiet then reset.
  for (const mode of ['half', 'destroy'] as const) {
    const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n`, mode, ['\r\n', Buffer.alloc(10, 7)]);
    for (const s of statusLines(r.data)) if (s >= 500) failures.push(`short PATCH body (${mode}): answered ${s}`);
    await status(`after a PATCH body cut short (${mode})`, '0-0');
  }
  // Chunked PATCH: two good chunks, then an invalid chunk header.
  {
    const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n`, 'keep', ['\r\n5\r\nhello\r\n5\r\nworld\r\nzz\r\n']);
    for (const s of statusLines(r.data)) if (s >= 500) failures.push(`malformed chunked PATCH: answered ${s}`);
    await status('after a chunked PATCH with a malformed chunk', '0-0');
  }
  // Chunked PATCH cut off mid-chunk.
  {
    await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n`, 'destroy', ['\r\n100\r\nonly-a-few-bytes']);
    await status('after a chunked PATCH cut off mid-chunk', '0-0');
  }
  // The session still works afterwards and its content is exactly what was acknowledged.
  const patch = await send(base, { method: 'PATCH', path: loc, headers: { 'content-range': '0-2' }, body: 'abc' });
  if (patch.status !== 202 || headerValue(patch, 'range') !== '0-2') failures.push(`PATCH after the cut-short ones -> ${patch.status} Range ${headerValue(patch, 'range')}, expected 202 0-2`);
  // Body longer than Content-Length: the extra bytes are a (bad) next request.
  let content = 'abc';
  {
    const r = await head(`PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Range: 3-5\r\nContent-Length: 3\r\n`, 'keep', ['\r\ndefGARBAGE-NOT-HTTP\r\n\r\n']);
    const ss = statusLines(r.data);
    for (const s of ss) if (s >= 500) failures.push(`PATCH with trailing bytes: answered ${s}`);
    // The PATCH itself is complete and valid: the client must be told the truth about it. Either it
    // is answered 202 and applied, or it is answered with an error and not applied.
    const st = await send(base, { method: 'GET', path: loc });
    const range = headerValue(st, 'range');
    if (range === '0-5') content = 'abcdef';
    if (ss[0] === 202 ? range !== '0-5' : range !== '0-2') {
      failures.push(`a complete PATCH (Content-Range 3-5, 3 bytes) followed on the same connection by non-HTTP bytes: first answer on the wire ${ss[0] ?? 'none'} (all: ${JSON.stringify(ss)}), but the upload is now Range ${range}: the answer the client got does not match what the server did`);
    }
  }
  const put = await send(base, { method: 'PUT', path: withQuery(loc, `digest=${sha256(content)}`) });
  if (put.status !== 201) failures.push(`final PUT -> ${describeResult(put)}, expected 201`);
  else {
    const redirect = await send(base, { method: 'GET', path: `/v2/${REPO}/blobs/${sha256(content)}` });
    const got = redirect.status === 307 ? await send(base, { method: 'GET', path: locationPath(base, headerValue(redirect, 'location')) }) : redirect;
    if (got.body.toString() !== content) failures.push(`blob assembled around cut-short requests is ${JSON.stringify(got.body.toString().slice(0, 50))}, expected ${JSON.stringify(content)}`);
  }
  // Monolithic POST and upload PUT cut short: the blob must not appear.
  const full = prng(SEED ^ 0x99).bytes(1000);
  const d = sha256(full);
  for (const mode of ['half', 'destroy'] as const) {
    await head(`POST /v2/${REPO}/blobs/uploads/?digest=${d} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n`, mode, ['\r\n', full.subarray(0, 500)]);
    const p2 = await send(base, { method: 'POST', path: `/v2/${REPO}/blobs/uploads/` });
    const loc2 = locationPath(base, headerValue(p2, 'location'));
    await head(`PUT ${withQuery(loc2, `digest=${d}`)} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n`, mode, ['\r\n', full.subarray(0, 999)]);
    const hb = await send(base, { method: 'HEAD', path: `/v2/${REPO}/blobs/${d}` });
    if (hb.status !== 404) failures.push(`blob from a cut-short POST/PUT (${mode}) is visible: HEAD -> ${hb.status}`);
    const st = await send(base, { method: 'GET', path: loc2 });
    if (!(st.status === 404 || (st.status === 204 && headerValue(st, 'range') === '0-0'))) failures.push(`session after a cut-short PUT (${mode}): GET -> ${st.status} Range ${headerValue(st, 'range')}, expected 404 or 204 0-0`);
    // The session can still be completed correctly with the full body (no stale partial bytes).
    if (st.status === 204) {
      const fin = await send(base, { method: 'PUT', path: withQuery(loc2, `digest=${d}`), body: full });
      if (fin.status !== 201) failures.push(`completing a session after a cut-short PUT (${mode}) -> ${describeResult(fin)}, expected 201`);
      const del = await send(base, { method: 'DELETE', path: `/v2/${REPO}/blobs/${d}` });
      if (fin.status === 201 && del.status !== 202) failures.push(`DELETE blob -> ${del.status}`);
    }
  }
  // Manifest PUT cut short: no tag.
  for (const mode of ['half', 'destroy'] as const) {
    const tag = `bad-cut-${mode}`;
    await head(`PUT /v2/${MF}/manifests/${tag} HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: ${ctx.manifest.size}\r\n`, mode, ['\r\n', ctx.manifest.bytes.subarray(0, 40)]);
    const g = await send(base, { method: 'GET', path: `/v2/${MF}/manifests/${tag}` });
    if (g.status !== 404) failures.push(`tag from a cut-short manifest PUT (${mode}) is visible: GET -> ${g.status}`);
  }
  return failures;
}
