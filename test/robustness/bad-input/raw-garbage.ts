// Raw-socket garbage: non-HTTP bytes, malformed and truncated requests on fresh connections must be
// answered below 500 or closed, and must not kill the server; pipelined requests are answered in order.
import { randomUUID } from 'node:crypto';
import type { RunningRegistry } from '../../support/registry.ts';
import { printable, prng } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { MF, REPO, SEED } from './config.ts';
import type { Ctx } from './fixtures.ts';
import { raw, statusLines } from './raw-socket.ts';

/** Sends every garbage case; returns what went wrong (empty when all is well). */
export async function garbageFailures(reg: RunningRegistry, ctx: Ctx): Promise<string[]> {
  const rawFailures: string[] = [];
  const rng = prng(SEED ^ 0x7a3);
  const cases: [string, (Buffer | string)[], 'half' | 'destroy' | 'keep', number][] = [
    ['random binary (control byte first)', [Buffer.concat([Buffer.from([0x01]), rng.bytes(1024)])], 'keep', 2000],
    ['random binary', [rng.bytes(4096)], 'half', 2000],
    ['ssh banner', ['SSH-2.0-OpenSSH_9.6\r\n'], 'keep', 2000],
    ['http/2 preface', ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], 'keep', 2000],
    ['bad Content-Length', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'], 'keep', 2000],
    ['two Content-Lengths', ['PATCH /v2/robust/base/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'], 'keep', 2000],
    ['Content-Length and chunked', ['POST /v2/robust/base/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 'keep', 2000],
    ['unknown transfer-encoding', ['POST /v2/robust/base/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxxxx'], 'keep', 2000],
    ['NUL in header', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'], 'keep', 2000],
    ['space in header name', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n'], 'keep', 2000],
    ['header over 16 KiB', [`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`], 'keep', 2000],
    ['20000 headers', [`GET /v2/ HTTP/1.1\r\nHost: x\r\n${'a: b\r\n'.repeat(20_000)}\r\n`], 'keep', 3000],
    ['control char in path', ['GET /v2/\x01/manifests/x HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
    ['space in path', ['GET /v2/a b/manifests/x HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
    ['raw utf-8 in path', [Buffer.from('GET /v2/résumé/manifests/ünïcødé HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')], 'keep', 2000],
    ['HTTP/9.9', ['GET /v2/ HTTP/9.9\r\nHost: x\r\n\r\n'], 'keep', 2000],
    ['HTTP/0.9 style', ['GET /v2/\r\n\r\n'], 'half', 2000],
    ['bare LF line endings', ['GET /v2/ HTTP/1.1\nHost: x\nConnection: close\n\n'], 'keep', 2000],
    ['obs-fold header', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n'], 'keep', 2000],
    ['absolute-form target', ['GET http://evil.example/v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 2000],
    ['asterisk target', ['OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 2000],
    ['CONNECT', ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'], 'keep', 2000],
    ['HTTP/1.0 without Host', ['GET /v2/ HTTP/1.0\r\n\r\n'], 'keep', 2000],
    ['HTTP/1.0 blob GET without Host', [`GET /v2/${REPO}/blobs/${ctx.layer.digest} HTTP/1.0\r\n\r\n`], 'keep', 2000],
    ['HTTP/1.0 upload POST without Host', [`POST /v2/${REPO}/blobs/uploads/ HTTP/1.0\r\nContent-Length: 0\r\n\r\n`], 'keep', 2000],
    ['HTTP/1.1 without Host', ['GET /v2/ HTTP/1.1\r\nConnection: close\r\n\r\n'], 'keep', 2000],
    ['two Host headers', ['GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'], 'keep', 2000],
    ['unknown method', ['BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
    ['lowercase method', ['get /v2/ HTTP/1.1\r\nHost: x\r\n\r\n'], 'keep', 2000],
    ['only CRLFs', ['\r\n\r\n\r\n\r\n'], 'half', 2000],
    ['truncated request line', ['GET /v2/ HTT'], 'half', 2000],
    ['truncated headers', ['GET /v2/ HTTP/1.1\r\nHost: x\r\n'], 'half', 2000],
    ['truncated then reset', ['GET /v2/ HTTP/1.1\r\nHost: x\r\nX-'], 'destroy', 2000],
    ['huge chunk size', [`PATCH /v2/${REPO}/blobs/uploads/${randomUUID()} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc`], 'keep', 2000],
    ['Expect: 100-continue, no body', [`PUT /v2/${MF}/manifests/bad-expect HTTP/1.1\r\nHost: x\r\nContent-Type: ${OCI_MANIFEST}\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n`], 'half', 2000],
  ];
  for (const [label, parts, mode, wait] of cases) {
    const r = await raw(reg.port, parts, mode, wait);
    const statuses = statusLines(r.data);
    const answered = statuses.length > 0;
    if (mode === 'keep' && !answered && !r.closed) rawFailures.push(`raw '${label}': neither answered nor closed within ${wait} ms`);
    for (const s of statuses) if (s >= 500) rawFailures.push(`raw '${label}': answered ${s}: ${printable(r.data.toString('latin1').slice(0, 300))}`);
    if (reg.child.exitCode !== null || reg.child.signalCode !== null) {
      rawFailures.push(`raw '${label}': the server process died (exit ${reg.child.exitCode}, signal ${reg.child.signalCode})`);
      break;
    }
  }
  // Pipelined requests get one answer each, in order.
  const pipelined = await raw(reg.port, ['GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/nope/../x HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 'keep', 3000);
  const ps = statusLines(pipelined.data);
  if (ps.length !== 3 || ps[0] !== 200 || ps[2] !== 200 || (ps[1] ?? 500) >= 500) rawFailures.push(`raw pipelined: expected 3 answers (200, 4xx, 200), got ${JSON.stringify(ps)}`);
  return rawFailures;
}
