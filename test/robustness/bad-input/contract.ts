// What every response must look like (the generic checks), and the expectation a case attaches to a
// request: exact statuses and OCI error codes for clear-cut inputs.
import { ErrorCodes } from '../../../functions/core/errors.ts';
import { headerValue, type HttpResult, type RequestSpec } from '../lib.ts';

const KNOWN_CODES = new Set(Object.keys(ErrorCodes));

export interface Expect {
  /** Exact status(es), or '4xx' for any client error. Absent: only the generic checks apply. */
  status?: number | readonly number[] | '4xx';
  /** Allowed OCI error code(s) (checked on non-HEAD error responses). */
  code?: string | readonly string[];
  /** For 405: methods that must not be listed in Allow (the one sent). */
  notAllowed?: string;
}

export const E = (status: number | readonly number[] | '4xx', code?: string | readonly string[]): Expect => (code === undefined ? { status } : { status, code });
export const X4: Expect = { status: '4xx' };
export const ANY: Expect = {};

export function parseError(res: HttpResult): { code?: unknown; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    return { problem: 'body is not JSON' };
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return { problem: 'JSON body has no errors[]' };
  const first = errors[0] as { code?: unknown; message?: unknown } | null;
  if (typeof first?.code !== 'string') return { problem: 'errors[0].code is not a string' };
  return { code: first.code };
}

function statusMatches(status: number, want: Expect['status']): boolean {
  if (want === undefined) return true;
  if (want === '4xx') return status >= 400 && status < 500;
  return typeof want === 'number' ? status === want : want.includes(status);
}

/** The checks every HTTP response gets, then the case's own expectation. */
export function checkResponse(spec: RequestSpec, res: HttpResult, expect: Expect): { kind: string; msg: string }[] {
  const problems: { kind: string; msg: string }[] = [];
  const isHead = spec.method === 'HEAD';
  if (res.status >= 500) problems.push({ kind: '5xx response', msg: `status ${res.status}` });
  if (headerValue(res, 'docker-distribution-api-version') !== 'registry/2.0') {
    problems.push({ kind: 'missing Docker-Distribution-API-Version: registry/2.0', msg: `header was ${JSON.stringify(headerValue(res, 'docker-distribution-api-version'))}` });
  }
  let code: string | undefined;
  if (res.status >= 400 && !isHead) {
    const e = parseError(res);
    if (e.problem) problems.push({ kind: 'error response without OCI JSON error body', msg: e.problem });
    else {
      code = e.code as string;
      if (!KNOWN_CODES.has(code)) problems.push({ kind: 'unknown OCI error code', msg: `code ${code}` });
      const ct = headerValue(res, 'content-type') ?? '';
      if (!ct.startsWith('application/json')) problems.push({ kind: 'error response Content-Type is not application/json', msg: `Content-Type ${ct}` });
    }
  }
  if (res.status === 405) {
    const allow = headerValue(res, 'allow');
    if (!allow) problems.push({ kind: '405 without Allow header', msg: 'no Allow header' });
    else if (expect.notAllowed && allow.split(',').map((m) => m.trim().toUpperCase()).includes(expect.notAllowed)) {
      problems.push({ kind: '405 Allow lists the rejected method', msg: `Allow: ${allow}` });
    }
  }
  if (!isHead && res.status < 300 && (headerValue(res, 'content-type') ?? '').startsWith('application/json') && res.body.length > 0) {
    try {
      JSON.parse(res.body.toString('utf8'));
    } catch {
      problems.push({ kind: 'success response with unparsable JSON body', msg: 'JSON.parse failed' });
    }
  }
  if (!statusMatches(res.status, expect.status)) {
    problems.push({ kind: 'status differs from the contract', msg: `expected ${JSON.stringify(expect.status)}${expect.code ? ` ${JSON.stringify(expect.code)}` : ''}` });
  } else if (expect.code !== undefined && !isHead && res.status >= 400 && code !== undefined) {
    const codes = typeof expect.code === 'string' ? [expect.code] : expect.code;
    if (!codes.includes(code)) problems.push({ kind: 'error code differs from the contract', msg: `expected code ${codes.join('|')}` });
  }
  return problems;
}
