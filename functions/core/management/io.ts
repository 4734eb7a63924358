// JSON in and out for the management API (/api/v1/): bodies read with a size limit and only as
// `application/json` (a browser form cannot send that cross-site without a CORS preflight, which
// this API never grants), fields checked one by one with a 400 naming the field, and `?n=&last=`
// pages with a Link header, as the registry's own lists.
import { RegistryError } from '../errors.ts';
import { header, jsonResponse, type RegistryRequest, type RegistryResponse } from '../http.ts';
import { readLimited } from '../read-body.ts';

const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export const invalid = (field: string, reason: string): RegistryError => new RegistryError('INVALID_REQUEST', { field, reason });
export const notFound = (what: string, name: string): RegistryError => new RegistryError('NOT_FOUND', { [what]: name }, { message: `${what} not found` });
export const denied = (reason: string): RegistryError => new RegistryError('DENIED', { reason });

export type Json = Record<string, unknown>;

/** The request's JSON object body. */
export async function readJson(req: RegistryRequest): Promise<Json> {
  const type = (header(req, 'content-type') ?? '').toLowerCase();
  if (!/^application\/json(\s*;|$)/.test(type)) throw new RegistryError('INVALID_REQUEST', { reason: 'the body must be application/json' }, { status: 415, message: 'unsupported media type' });
  const raw = await readLimited(req.body, MAX_BODY_BYTES, header(req, 'content-length'));
  if (raw === undefined) throw new RegistryError('INVALID_REQUEST', { reason: `the body is over ${MAX_BODY_BYTES} bytes` }, { status: 413, message: 'request too large' });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw invalid('body', 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('body', 'must be a JSON object');
  return value as Json;
}

/** Refuses fields the endpoint does not know (a typo must not be silently ignored). */
export function onlyFields(body: Json, known: readonly string[]): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) throw invalid(key, `is not a field of this request (known: ${known.join(', ')})`);
}

export function stringField(body: Json, key: string): string;
export function stringField(body: Json, key: string, optional: true): string | undefined;
export function stringField(body: Json, key: string, optional = false): string | undefined {
  const v = body[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(key, v === undefined ? 'is required' : 'must be a non-empty string');
  return v;
}

export function boolField(body: Json, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(key, 'must be true or false');
  return v;
}

export function stringListField(body: Json, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw invalid(key, 'must be a list of non-empty strings');
  return v as string[];
}

export interface PageParams {
  n: number;
  last: string | undefined;
}

export function pageParams(req: RegistryRequest): PageParams {
  const rawN = req.query.get('n');
  let n = DEFAULT_PAGE;
  if (rawN !== null) {
    if (!/^\d{1,6}$/.test(rawN) || Number(rawN) < 1) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: rawN.slice(0, 50), reason: `n is a number from 1 to ${MAX_PAGE}` });
    n = Math.min(Number(rawN), MAX_PAGE);
  }
  const last = req.query.get('last');
  return { n, last: last === null || last === '' ? undefined : last };
}

/** One page of an in-memory list sorted by `key`: the items strictly after `last`. */
export function pageOf<T>(all: readonly T[], key: (t: T) => string, page: PageParams): { items: T[]; more: boolean } {
  const sorted = [...all].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const after = page.last === undefined ? sorted : sorted.filter((t) => key(t) > page.last!);
  return { items: after.slice(0, page.n), more: after.length > page.n };
}

/** A list answer: `{ [field]: items, next }` and, when more follow, a Link header to the next page (keeping the `keep` query parameters). */
export function listResponse<T>(req: RegistryRequest, field: string, page: { items: T[]; more: boolean }, n: number, key: (t: T) => string, keep: Record<string, string> = {}): RegistryResponse {
  const lastItem = page.items[page.items.length - 1];
  const next = page.more && lastItem !== undefined ? key(lastItem) : null;
  const kept = Object.entries(keep).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
  const headers: Record<string, string> = next === null ? {} : { link: `<${req.path}?n=${n}&last=${encodeURIComponent(next)}${kept}>; rel="next"` };
  return jsonResponse(200, { [field]: page.items, next }, headers);
}
