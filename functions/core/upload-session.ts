// Upload sessions: identity, signed Location tokens, Content-Range parsing and the Range header.
import { randomUUID } from 'node:crypto';
import { RegistryError } from './errors.ts';
import { header, type RegistryRequest } from './http.ts';
import type { RegistryDeps } from './context.ts';
import type { UploadSession } from './ports.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const newUploadId = (): string => randomUUID();

/** The Range header value for a session holding `size` bytes (distribution's form: `0-0` when empty). */
export const rangeHeader = (size: number): string => `0-${Math.max(size - 1, 0)}`;

export function uploadLocation(deps: RegistryDeps, repo: string, id: string): string {
  const exp = Math.floor(deps.now() / 1000) + deps.settings.uploadTtlSeconds;
  return `/v2/${repo}/blobs/uploads/${id}?_state=${deps.signer.sign(`${repo}|${id}`, exp)}`;
}

export function sessionHeaders(deps: RegistryDeps, session: UploadSession): Record<string, string> {
  return {
    location: uploadLocation(deps, session.repo, session.id),
    range: rangeHeader(session.offset),
    'docker-upload-uuid': session.id,
  };
}

/**
 * Loads the session named by the route, checking the `_state` token when the client sent one. A token
 * that is authentic but past its own expiry is not an error by itself: the Location of any earlier
 * POST or PATCH stays valid while the session lives, and the session's own (sliding) expiry decides.
 */
export async function loadSession(deps: RegistryDeps, req: RegistryRequest, repo: string, id: string): Promise<UploadSession> {
  const unknown = () => new RegistryError('BLOB_UPLOAD_UNKNOWN', { session: id.slice(0, 100) });
  if (!UUID_RE.test(id)) throw unknown();
  const state = req.query.get('_state');
  if (state !== null) {
    const token = deps.signer.open(state);
    if (token === undefined) throw new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'upload state token is not authentic' });
    // An authentic token for another repository or session: that upload does not exist here.
    if (token.payload !== `${repo}|${id}`) throw unknown();
  }
  const session = await deps.metadata.getUpload(id);
  if (!session || session.repo !== repo || session.expiresAt < deps.now()) throw unknown();
  return session;
}

export interface ContentRange {
  start: number;
  end: number;
}

/** Parses `Content-Range: <start>-<end>` (also tolerating a `bytes ` prefix and `/total`). */
export function parseContentRange(req: RegistryRequest, session: UploadSession): ContentRange | undefined {
  const raw = header(req, 'content-range');
  if (raw === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/.exec(raw.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || end < start || start !== session.offset) {
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      { reason: 'Content-Range must start at the current upload size', contentRange: raw.slice(0, 100), size: session.offset },
      { status: 416, headers: { range: rangeHeader(session.offset), 'docker-upload-uuid': session.id } },
    );
  }
  return { start, end };
}

/** The body length the request announces, from Content-Range and Content-Length (which must agree). */
export function expectedLength(req: RegistryRequest, range: ContentRange | undefined): number | undefined {
  const raw = header(req, 'content-length');
  const length = raw === undefined ? undefined : Number(raw);
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
    throw new RegistryError('SIZE_INVALID', { reason: 'invalid Content-Length' });
  }
  if (range === undefined) return length;
  const rangeLength = range.end - range.start + 1;
  if (length !== undefined && length !== rangeLength) {
    throw new RegistryError('SIZE_INVALID', { reason: 'Content-Length does not match Content-Range', contentLength: length, rangeLength });
  }
  return rangeLength;
}
