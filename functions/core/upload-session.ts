// Upload sessions: identity, signed Location tokens, Content-Range parsing and the Range header.
import { randomUUID } from 'node:crypto';
import { RegistryError } from './errors.ts';
import { header, type RegistryRequest } from './http.ts';
import type { RegistryDeps } from './context.ts';
import type { Principal } from './access.ts';
import type { UploadSession } from './ports.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const newUploadId = (): string => randomUUID();

/** The Range header value for a session holding `size` bytes (distribution's form: `0-0` when empty). */
export const rangeHeader = (size: number): string => `0-${Math.max(size - 1, 0)}`;

type LocationDeps = Pick<RegistryDeps, 'uploadTokens' | 'settings' | 'now'>;

/**
 * What a session's `_state` token binds: the repository, the session and its owner (the principal
 * that started the upload; URI-encoded, so no `|` of a subject can shift the fields). Only the owner
 * may write to the session, read its status or cancel it. The edge checks the repository and session
 * part alone (functions/edge/viewer-request.js): the token it is shown was handed to the owner.
 */
export const uploadTokenPayload = (repo: string, id: string, owner: string): string => `${repo}|${id}|${encodeURIComponent(owner)}`;

export function uploadLocation(deps: LocationDeps, repo: string, id: string, owner: string): string {
  // Rounded up: the token lives at least as long as the session it was handed out with.
  const exp = Math.ceil((deps.now() + deps.settings.uploadTtlSeconds * 1000) / 1000);
  return `/v2/${repo}/blobs/uploads/${id}?_state=${deps.uploadTokens.sign(uploadTokenPayload(repo, id, owner), exp)}`;
}

/**
 * The Location of a session. Once it holds bytes, `_partial=1` tells the CloudFront edge (which sees no
 * session state) that a closing PUT with a body carries only the last chunk, not a whole blob, so it
 * must not go straight to S3 (docs/edge.md). Unsigned: dropping it only breaks the client's own upload.
 */
export function sessionHeaders(deps: LocationDeps, session: UploadSession, owner: Principal): Record<string, string> {
  return {
    location: uploadLocation(deps, session.repo, session.id, owner.subject) + (session.offset > 0 ? '&_partial=1' : ''),
    range: rangeHeader(session.offset),
    'docker-upload-uuid': session.id,
  };
}

/**
 * Loads the session named by the route. The `_state` token of the Location is required: it must be
 * authentic (signed by an upload key), unexpired, and name this repository and session. Every response
 * on a session hands out a fresh token, so a client following the latest Location never meets an
 * expired one; an edge that sees no session state can check the same token alone.
 */
export async function loadSession(deps: RegistryDeps, req: RegistryRequest, repo: string, id: string, principal: Principal): Promise<UploadSession> {
  checkUploadToken(deps, req, repo, id, principal);
  const session = await deps.metadata.getUpload(id);
  if (!session || session.repo !== repo || session.expiresAt < deps.now()) throw unknownUpload(id);
  return session;
}

export function unknownUpload(id: string, reason?: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', reason ? { session: id.slice(0, 100), reason } : { session: id.slice(0, 100) });
}

/** The checks of loadSession that need no store: the session id and the `_state` token, and that `principal` owns the session. */
export function checkUploadToken(deps: RegistryDeps, req: RegistryRequest, repo: string, id: string, principal: Principal): void {
  const unknown = (reason?: string) => unknownUpload(id, reason);
  if (!UUID_RE.test(id)) throw unknown();
  const state = req.query.get('_state');
  if (state === null) throw unknown('the upload URL has no _state token: use the Location the registry returned');
  const token = deps.uploadTokens.open(state);
  if (token === undefined) throw new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'upload state token is not authentic' });
  // An authentic token for another repository or session: that upload does not exist here.
  const prefix = `${repo}|${id}|`;
  if (!token.payload.startsWith(prefix)) throw unknown();
  if (token.expiresAtSeconds * 1000 < deps.now()) throw unknown('the upload token has expired');
  // Someone else's upload (a Location that leaked, or another member of the project): refused, and
  // named as such. The session id is random, so saying it exists tells nothing useful.
  if (token.payload.slice(prefix.length) !== encodeURIComponent(principal.subject)) {
    throw new RegistryError('DENIED', { reason: 'this upload was started by another principal: only its owner may continue, check or cancel it', session: id });
  }
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
