// Blob uploads: POST (session, monolithic, mount), PATCH, PUT, GET status, DELETE.
import { repoAccess } from '../access.ts';
import { RegistryError } from '../errors.ts';
import { isValidDigest, isValidName, requireDigest } from '../grammar.ts';
import { emptyResponse, type RegistryResponse } from '../http.ts';
import { randomUUID } from 'node:crypto';
import { linkedOrEdgeBlob, recordBlob } from '../blob-records.ts';
import { DigestMismatchError, UploadConflictError, UploadSizeError, type UploadSession } from '../ports.ts';
import { QuotaExceededError } from '../quota-ports.ts';
import { checkRoom, limitOf } from '../quota.ts';
import { checkUploadToken, expectedLength, loadSession, newUploadId, parseContentRange, rangeHeader, sessionHeaders, unknownUpload } from '../upload-session.ts';
import type { HandlerContext, Operation, RegistryDeps } from '../context.ts';

function blobCreated(repo: string, digest: string): RegistryResponse {
  return emptyResponse(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
}

/** Another request holds the session's lease or moved it on: 416 with the size this request saw. */
function busy(session: UploadSession, reason: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', { reason }, { status: 416, headers: { range: rangeHeader(session.offset), 'docker-upload-uuid': session.id } });
}

/**
 * Runs `work` holding the session's write lease, taken in the metadata store before any byte is
 * written: with many Lambdas and ingest tasks, only the holder may write. `work` returns the next
 * session to record (which releases the lease) or undefined to release it unchanged.
 */
async function withLease<T>(
  deps: RegistryDeps,
  session: UploadSession,
  work: (holder: string) => Promise<{ next?: UploadSession; result: T }>,
  held?: string,
): Promise<T> {
  const holder = held ?? randomUUID();
  const now = deps.now();
  const taken = held !== undefined || (await deps.metadata.leaseUpload(session.id, session.offset, { holder, until: now + deps.settings.uploadLeaseSeconds * 1000 }, now));
  if (!taken) {
    if (!(await deps.metadata.getUpload(session.id))) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { session: session.id });
    throw busy(session, 'another request is writing to this upload, or it changed since it was read');
  }
  // Renew while the work goes on (a PATCH of several GiB takes longer than one lease).
  const leaseMs = deps.settings.uploadLeaseSeconds * 1000;
  const renew = setInterval(() => {
    const at = deps.now();
    deps.metadata.leaseUpload(session.id, session.offset, { holder, until: at + leaseMs }, at).catch(() => undefined);
  }, Math.max(1000, Math.floor(leaseMs / 3)));
  renew.unref();
  let outcome: { next?: UploadSession; result: T };
  try {
    outcome = await work(holder);
  } catch (e) {
    clearInterval(renew);
    await deps.metadata.releaseUpload(session.id, holder).catch(() => undefined);
    throw e;
  } finally {
    clearInterval(renew);
  }
  let recorded = true;
  if (outcome.next) {
    try {
      recorded = await deps.metadata.updateUpload(session.id, holder, outcome.next);
    } catch (e) {
      // The store holds bytes the session could not record (e.g. a full disk): drop the session rather
      // than leave the two disagreeing; the client starts the upload again. The bytes go first, which
      // frees the space the session row's deletion may need.
      await abortQuietly(deps, session.id, outcome.next.state);
      await deps.metadata.deleteUpload(session.id).catch(() => undefined);
      throw e;
    }
  }
  if (outcome.next && !recorded) {
    // Cancelled meanwhile: drop the bytes. Otherwise the lease ran out and another request took the
    // session: this request's bytes are not recorded, and the store never wrote over the other's.
    if (!(await deps.metadata.getUpload(session.id))) {
      await deps.blobs.abortUpload(session.id, outcome.next.state).catch(() => undefined);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { session: session.id, reason: 'upload was cancelled during this request' });
    }
    throw busy(session, 'the upload lease expired while this request was writing');
  }
  return outcome.result;
}

/**
 * The session named by the route, leased for `work`: in one round trip when the store can read and
 * lease together (takeUpload), else loadSession then withLease's lease.
 */
async function leased<T>(ctx: HandlerContext, work: (session: UploadSession) => Promise<{ next?: UploadSession; result: T }>): Promise<T> {
  const { deps, req, params, principal } = ctx;
  if (!deps.metadata.takeUpload) {
    const session = await loadSession(deps, req, params.name, params.session, principal);
    return withLease(deps, session, () => work(session));
  }
  checkUploadToken(deps, req, params.name, params.session, principal);
  const holder = randomUUID();
  const now = deps.now();
  const got = await deps.metadata.takeUpload(params.session, { holder, until: now + deps.settings.uploadLeaseSeconds * 1000 }, now);
  if (got === undefined) throw unknownUpload(params.session);
  if ('busyAt' in got) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'another request is writing to this upload' }, { status: 416, headers: { range: rangeHeader(got.busyAt), 'docker-upload-uuid': params.session } });
  }
  if (got.repo !== params.name) {
    await deps.metadata.releaseUpload(got.id, holder).catch(() => undefined);
    throw unknownUpload(params.session);
  }
  return withLease(deps, got, () => work(got), holder);
}

/**
 * Appends the request body to the session at its current offset. Returns the session after the
 * append (unchanged without a body). The caller holds the lease, or the session is not persisted.
 */
async function appendBody(ctx: HandlerContext, session: UploadSession, digest?: string): Promise<UploadSession> {
  const { deps, req } = ctx;
  const range = parseContentRange(req, session);
  const length = expectedLength(req, range);
  if (!req.body || length === 0) {
    if (range && length !== 0) throw new RegistryError('SIZE_INVALID', { reason: 'Content-Range announces bytes but the body is empty' });
    return session;
  }
  // The size is known before any byte is read: over the project's quota, refused now (core/quota.ts).
  if (length !== undefined) await checkRoom(deps, session.repo, session.offset + length, digest);
  let appended: { offset: number; state: string };
  try {
    appended = await deps.blobs.appendUpload(session.id, session.offset, session.state, req.body, length);
  } catch (e) {
    if (e instanceof UploadSizeError) throw new RegistryError('SIZE_INVALID', { reason: e.message });
    throw conflictAsRange(e, session);
  }
  const now = deps.now();
  return { ...session, ...appended, updatedAt: now, expiresAt: now + deps.settings.uploadTtlSeconds * 1000 };
}

/** Another request is working on the upload, or moved it on: 416 with the size this request saw. */
function conflictAsRange(e: unknown, session: UploadSession): unknown {
  if (!(e instanceof UploadConflictError)) return e;
  return new RegistryError('BLOB_UPLOAD_INVALID', { reason: e.message }, { status: 416, headers: { range: rangeHeader(session.offset) } });
}

/** Drops an upload's bytes on a path that is already failing; the original error is what counts. */
async function abortQuietly(deps: RegistryDeps, id: string, state: string): Promise<void> {
  await deps.blobs.abortUpload(id, state).catch(() => undefined);
}

/**
 * Verifies the uploaded bytes against `digest` (from the store's running hash: no re-read) and makes
 * them a blob linked into the repository; the session, if persisted, is deleted.
 */
async function complete(deps: RegistryDeps, session: UploadSession, digest: string, persisted: boolean): Promise<RegistryResponse> {
  // The whole size is known now: a blob over the project's quota is refused and its upload ended.
  try {
    await checkRoom(deps, session.repo, session.offset, digest);
  } catch (e) {
    await discard(deps, session, persisted).catch(() => undefined);
    throw e;
  }
  let location: string;
  try {
    ({ location } = await deps.blobs.finishUpload(session.id, session.offset, session.state, digest));
  } catch (e) {
    if (e instanceof DigestMismatchError) {
      if (persisted) await deps.metadata.deleteUpload(session.id);
      throw new RegistryError('DIGEST_INVALID', { digest, actual: e.actual, size: session.offset });
    }
    throw conflictAsRange(e, session);
  }
  try {
    await recordBlob(deps, session.repo, { digest, size: session.offset, location, createdAt: deps.now() });
  } catch (e) {
    // A racing push took the room (the link write's own check): the upload ends, its bytes are left
    // to GC (a store that records before it links may have recorded them: they are not ours to delete).
    if (e instanceof QuotaExceededError && persisted) await deps.metadata.deleteUpload(session.id).catch(() => undefined);
    throw e;
  }
  if (persisted) await deps.metadata.deleteUpload(session.id);
  return blobCreated(session.repo, digest);
}

async function discard(deps: RegistryDeps, session: UploadSession, persisted: boolean): Promise<void> {
  if (persisted) await deps.metadata.deleteUpload(session.id);
  await deps.blobs.abortUpload(session.id, session.state);
}

async function newSession(deps: RegistryDeps, repo: string): Promise<UploadSession> {
  const id = newUploadId();
  const now = deps.now();
  const state = await deps.blobs.startUpload(id);
  return { id, repo, offset: 0, state, createdAt: now, updatedAt: now, expiresAt: now + deps.settings.uploadTtlSeconds * 1000 };
}

/**
 * POST ?mount=&from=: links the blob when `from` holds it and may be read; undefined to fall back to a
 * plain upload session. A mount is only a hint, so whatever prevents it (no or a malformed `from`, a
 * malformed digest, no read access, no such blob) falls back to the 202, as distribution does.
 */
async function tryMount(ctx: HandlerContext, digest: string): Promise<RegistryResponse | undefined> {
  const { deps, params, req, principal } = ctx;
  const from = req.query.get('from');
  if (from === null || !isValidName(from) || !isValidDigest(digest)) return undefined;
  if (!(await deps.authorizer.can(principal, repoAccess(from, 'pull')))) return undefined;
  const blob = await linkedOrEdgeBlob(deps, from, digest);
  if (!blob) return undefined;
  await deps.metadata.linkBlob(params.name, blob, await limitOf(deps, params.name));
  return blobCreated(params.name, digest);
}

export const startUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle(ctx) {
    const { deps, params, req } = ctx;
    const mount = req.query.get('mount');
    if (mount !== null) {
      const mounted = await tryMount(ctx, mount);
      if (mounted) return mounted;
    }
    const digestParam = req.query.get('digest');
    if (digestParam !== null) {
      const digest = requireDigest(digestParam);
      const session = await newSession(deps, params.name);
      try {
        const filled = await appendBody(ctx, session, digest);
        return await complete(deps, filled, digest, false);
      } catch (e) {
        await abortQuietly(deps, session.id, session.state);
        throw e;
      }
    }
    const session = await newSession(deps, params.name);
    try {
      await deps.metadata.createUpload(session);
    } catch (e) {
      await abortQuietly(deps, session.id, session.state);
      throw e;
    }
    return emptyResponse(202, {
      ...sessionHeaders(deps, session, ctx.principal),
      'oci-chunk-min-length': String(deps.blobs.minChunkLength),
    });
  },
};

export const patchUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle(ctx) {
    const next = await leased(ctx, async (session) => {
      const appended = await appendBody(ctx, session);
      return { next: appended === session ? undefined : appended, result: appended };
    });
    return emptyResponse(202, sessionHeaders(ctx.deps, next, ctx.principal));
  },
};

export const putUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle(ctx) {
    const { deps, req } = ctx;
    if (deps.metadata.claimUpload) return claimedPut(ctx, deps.metadata.claimUpload.bind(deps.metadata));
    // A failure after the append leaves the session as it was: the client may send the chunk again.
    // The session is checked first (an unknown session is 404 whatever the digest).
    return leased(ctx, async (session) => {
      const digest = requireDigest(req.query.get('digest'));
      return { result: await complete(deps, await appendBody(ctx, session, digest), digest, true) };
    });
  },
};

/**
 * The finishing PUT on a store that can take a session out in one write (claimUpload): the session
 * leaves the store as this request starts (so no other request can write to it, and nothing is left
 * to delete at the end), and is put back as it was when the request fails short of a verdict on the
 * bytes. A digest mismatch ends the upload, as on the leased path. A crash mid-request loses the
 * session: the client starts the blob again (its bytes expire in storage).
 */
async function claimedPut(ctx: HandlerContext, claim: NonNullable<RegistryDeps['metadata']['claimUpload']>): Promise<RegistryResponse> {
  const { deps, req, params, principal } = ctx;
  checkUploadToken(deps, req, params.name, params.session, principal);
  const got = await claim(params.session, deps.now());
  if (got === undefined) throw unknownUpload(params.session);
  if ('busyAt' in got) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'another request is writing to this upload' }, { status: 416, headers: { range: rangeHeader(got.busyAt), 'docker-upload-uuid': params.session } });
  }
  let judged = false; // the bytes were held against the digest: a mismatch ends the upload
  try {
    if (got.repo !== params.name) throw unknownUpload(params.session);
    const digest = requireDigest(req.query.get('digest'));
    const filled = await appendBody(ctx, got, digest);
    judged = true;
    return await complete(deps, filled, digest, false);
  } catch (e) {
    // A digest mismatch or a quota refusal on the whole upload ends it; anything else puts it back.
    const ended = judged && ((e instanceof RegistryError && (e.code === 'DIGEST_INVALID' || e.code === 'DENIED')) || e instanceof QuotaExceededError);
    if (!ended) await deps.metadata.createUpload(got).catch(() => undefined);
    throw e;
  }
}

export const getUploadStatus: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ deps, req, params, principal }) {
    const session = await loadSession(deps, req, params.name, params.session, principal);
    return emptyResponse(204, sessionHeaders(deps, session, principal));
  },
};

export const cancelUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ deps, req, params, principal }) {
    const session = await loadSession(deps, req, params.name, params.session, principal);
    await discard(deps, session, true);
    return emptyResponse(204);
  },
};
