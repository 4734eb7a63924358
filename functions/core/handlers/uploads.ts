// Blob uploads: POST (session, monolithic, mount), PATCH, PUT, GET status, DELETE.
import { repoAccess } from '../access.ts';
import { RegistryError } from '../errors.ts';
import { digestAlgorithm, isValidDigest, isValidName, requireDigest } from '../grammar.ts';
import { emptyResponse, type RegistryResponse } from '../http.ts';
import { UploadConflictError, UploadSizeError, type UploadSession } from '../ports.ts';
import { expectedLength, loadSession, newUploadId, parseContentRange, rangeHeader, sessionHeaders } from '../upload-session.ts';
import type { HandlerContext, Operation, RegistryDeps } from '../context.ts';

function blobCreated(repo: string, digest: string): RegistryResponse {
  return emptyResponse(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
}

/** Appends the request body to the session at its current offset; returns the updated session. */
async function appendBody(ctx: HandlerContext, session: UploadSession, persist: boolean): Promise<UploadSession> {
  const { deps, req } = ctx;
  const range = parseContentRange(req, session);
  const length = expectedLength(req, range);
  if (!req.body || length === 0) {
    if (range && length !== 0) throw new RegistryError('SIZE_INVALID', { reason: 'Content-Range announces bytes but the body is empty' });
    return session;
  }
  let appended: { offset: number; state: string };
  try {
    appended = await deps.blobs.appendUpload(session.id, session.offset, session.state, req.body, length);
  } catch (e) {
    if (e instanceof UploadSizeError) throw new RegistryError('SIZE_INVALID', { reason: e.message });
    throw conflictAsRange(e, session);
  }
  const now = deps.now();
  const next = { ...session, ...appended, updatedAt: now, expiresAt: now + deps.settings.uploadTtlSeconds * 1000 };
  let updated = true;
  try {
    if (persist) updated = await deps.metadata.updateUpload(session.id, session.offset, next);
  } catch (e) {
    // The store holds bytes the session could not record (e.g. a full disk): drop the session rather
    // than leave the two disagreeing; the client starts the upload again. The bytes go first, which
    // frees the space the session row's deletion may need.
    await abortQuietly(deps, session.id, appended.state);
    await deps.metadata.deleteUpload(session.id).catch(() => undefined);
    throw e;
  }
  if (!updated) {
    // Another request changed the session first. If it was cancelled, drop the bytes; if it moved
    // on, the store already refused to write over it, so its bytes are untouched.
    if (!(await deps.metadata.getUpload(session.id))) {
      await deps.blobs.abortUpload(session.id, appended.state);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { session: session.id, reason: 'upload was cancelled during this request' });
    }
    throw new RegistryError('BLOB_UPLOAD_INVALID', { reason: 'upload changed concurrently' }, { status: 416, headers: { range: rangeHeader(session.offset) } });
  }
  return next;
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

/** Verifies the uploaded bytes against `digest` and makes them a blob linked into the repository. */
async function complete(deps: RegistryDeps, session: UploadSession, digest: string, persisted: boolean): Promise<RegistryResponse> {
  let actual: string;
  try {
    actual = await deps.blobs.digestUpload(session.id, session.offset, session.state, digestAlgorithm(digest));
    if (actual === digest) await deps.blobs.commitUpload(session.id, digest, session.offset, session.state);
  } catch (e) {
    throw conflictAsRange(e, session);
  }
  if (actual !== digest) {
    await discard(deps, session, persisted);
    throw new RegistryError('DIGEST_INVALID', { digest, actual, size: session.offset });
  }
  await deps.metadata.putBlob({ digest, size: session.offset, createdAt: deps.now() });
  await deps.metadata.linkBlob(session.repo, digest, session.offset);
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
  const blob = await deps.metadata.getLinkedBlob(from, digest);
  if (!blob) return undefined;
  await deps.metadata.linkBlob(params.name, digest, blob.size);
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
        const filled = await appendBody(ctx, session, false);
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
      ...sessionHeaders(deps, session),
      'oci-chunk-min-length': String(deps.blobs.minChunkLength),
    });
  },
};

export const patchUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle(ctx) {
    const session = await loadSession(ctx.deps, ctx.req, ctx.params.name, ctx.params.session);
    const next = await appendBody(ctx, session, true);
    return emptyResponse(202, sessionHeaders(ctx.deps, next));
  },
};

export const putUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle(ctx) {
    const { deps, req, params } = ctx;
    const session = await loadSession(deps, req, params.name, params.session);
    const digest = requireDigest(req.query.get('digest'));
    const filled = await appendBody(ctx, session, true);
    return complete(deps, filled, digest, true);
  },
};

export const getUploadStatus: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ deps, req, params }) {
    const session = await loadSession(deps, req, params.name, params.session);
    return emptyResponse(204, sessionHeaders(deps, session));
  },
};

export const cancelUpload: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ deps, req, params }) {
    const session = await loadSession(deps, req, params.name, params.session);
    await discard(deps, session, true);
    return emptyResponse(204);
  },
};
