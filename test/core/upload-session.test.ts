// Upload session helpers (functions/core/upload-session.ts): Content-Range parsing, the announced
// body length, the Range header, signed Locations and session loading. Expected behaviour from the
// OCI distribution spec ("Pushing a blob in chunks") and the decisions documented in the README.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { allowAll } from '../../functions/core/access.ts';
import { defaultSettings, type RegistryDeps } from '../../functions/core/context.ts';
import { RegistryError } from '../../functions/core/errors.ts';
import type { RegistryRequest } from '../../functions/core/http.ts';
import type { BlobStore, MetadataStore, UploadSession } from '../../functions/core/ports.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import {
  expectedLength,
  loadSession,
  newUploadId,
  parseContentRange,
  rangeHeader,
  sessionHeaders,
  uploadLocation,
} from '../../functions/core/upload-session.ts';

const ID = '0b8f7c1e-1111-4222-8333-444455556666';
const ALICE = { subject: 'alice' };
const NOW_MS = 1_700_000_000_000;

function request(headers: Record<string, string> = {}, query = ''): RegistryRequest {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method: 'PATCH', path: `/v2/r/x/blobs/uploads/${ID}`, query: new URLSearchParams(query), headers: lower };
}

function session(offset: number, extra: Partial<UploadSession> = {}): UploadSession {
  return { id: ID, repo: 'r/x', offset, state: '', createdAt: NOW_MS, updatedAt: NOW_MS, expiresAt: NOW_MS + 3_600_000, ...extra };
}

function assertRegistryError(caught: unknown, code: string, status: number): RegistryError {
  assert.ok(caught instanceof RegistryError, `expected a RegistryError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.equal(caught.status, status);
  return caught;
}

function expectError(fn: () => unknown, code: string, status: number): RegistryError {
  try {
    fn();
  } catch (e) {
    return assertRegistryError(e, code, status);
  }
  return assertRegistryError(undefined, code, status);
}

async function expectRejection(p: Promise<unknown>, code: string, status: number): Promise<RegistryError> {
  return assertRegistryError(await p.then(() => undefined, (e: unknown) => e), code, status);
}

describe('rangeHeader', () => {
  it('is 0-<size-1>, and 0-0 for an empty session (no "bytes=" prefix)', () => {
    assert.equal(rangeHeader(0), '0-0');
    assert.equal(rangeHeader(1), '0-0');
    assert.equal(rangeHeader(2), '0-1');
    assert.equal(rangeHeader(10), '0-9');
    assert.equal(rangeHeader(5 * 1024 * 1024), `0-${5 * 1024 * 1024 - 1}`);
  });
});

describe('parseContentRange', () => {
  it('no Content-Range: undefined', () => {
    assert.equal(parseContentRange(request(), session(0)), undefined);
    assert.equal(parseContentRange(request({ 'content-range': '' }), session(0)), undefined);
  });

  it('parses <start>-<end> starting at the current size', () => {
    assert.deepEqual(parseContentRange(request({ 'content-range': '0-99' }), session(0)), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange(request({ 'content-range': '100-199' }), session(100)), { start: 100, end: 199 });
    assert.deepEqual(parseContentRange(request({ 'content-range': '7-7' }), session(7)), { start: 7, end: 7 });
  });

  it('tolerates the RFC forms "bytes a-b/total", "bytes=a-b" and "a-b/*"', () => {
    assert.deepEqual(parseContentRange(request({ 'content-range': 'bytes 0-9/10' }), session(0)), { start: 0, end: 9 });
    assert.deepEqual(parseContentRange(request({ 'content-range': 'bytes=10-19' }), session(10)), { start: 10, end: 19 });
    assert.deepEqual(parseContentRange(request({ 'content-range': '10-19/*' }), session(10)), { start: 10, end: 19 });
    assert.deepEqual(parseContentRange(request({ 'content-range': ' 0-9 ' }), session(0)), { start: 0, end: 9 });
  });

  it('a start other than the current size is 416 BLOB_UPLOAD_INVALID with the current Range', () => {
    for (const [range, offset] of [
      ['0-9', 10],
      ['11-20', 10],
      ['5-9', 10],
      ['1-10', 0],
    ] as const) {
      const e = expectError(() => parseContentRange(request({ 'content-range': range }), session(offset)), 'BLOB_UPLOAD_INVALID', 416);
      assert.equal(e.headers.range, rangeHeader(offset), `Range for offset ${offset}`);
      assert.equal(e.headers['docker-upload-uuid'], ID);
    }
  });

  it('an end before the start is refused', () => {
    const e = expectError(() => parseContentRange(request({ 'content-range': '10-9' }), session(10)), 'BLOB_UPLOAD_INVALID', 416);
    assert.equal(e.headers.range, '0-9');
  });

  it('malformed values are refused', () => {
    for (const bad of ['abc', '0-', '-9', '0--9', '0-9-10', 'bytes 0-9/abc', '0x0-0x9', '1e3-2e3', '0 - 9', `0-${'9'.repeat(20)}`]) {
      assert.throws(
        () => parseContentRange(request({ 'content-range': bad }), session(0)),
        (e: unknown) => e instanceof RegistryError && e.status >= 400 && e.status < 500,
        JSON.stringify(bad),
      );
    }
  });
});

describe('expectedLength', () => {
  it('nothing announced: undefined (a streamed, chunked body)', () => {
    assert.equal(expectedLength(request(), undefined), undefined);
  });

  it('Content-Length alone', () => {
    assert.equal(expectedLength(request({ 'content-length': '0' }), undefined), 0);
    assert.equal(expectedLength(request({ 'content-length': '12345' }), undefined), 12345);
    assert.equal(expectedLength(request({ 'content-length': String(2 ** 40) }), undefined), 2 ** 40);
  });

  it('an invalid Content-Length is SIZE_INVALID', () => {
    for (const bad of ['-1', '1.5', 'abc', '1e3x', String(2 ** 60)]) {
      expectError(() => expectedLength(request({ 'content-length': bad }), undefined), 'SIZE_INVALID', 400);
    }
  });

  it('Content-Range alone gives its length', () => {
    assert.equal(expectedLength(request(), { start: 0, end: 9 }), 10);
    assert.equal(expectedLength(request(), { start: 100, end: 100 }), 1);
  });

  it('Content-Range and Content-Length must agree', () => {
    assert.equal(expectedLength(request({ 'content-length': '10' }), { start: 0, end: 9 }), 10);
    assert.equal(expectedLength(request({ 'content-length': '10' }), { start: 10, end: 19 }), 10);
    expectError(() => expectedLength(request({ 'content-length': '9' }), { start: 0, end: 9 }), 'SIZE_INVALID', 400);
    expectError(() => expectedLength(request({ 'content-length': '11' }), { start: 0, end: 9 }), 'SIZE_INVALID', 400);
    expectError(() => expectedLength(request({ 'content-length': '0' }), { start: 0, end: 0 }), 'SIZE_INVALID', 400);
  });
});

describe('upload ids, Locations and loadSession', () => {
  const signer = new TokenSigner('unit-test-secret-0123456789');
  const stored = new Map<string, UploadSession>();
  const metadata = { getUpload: async (id: string) => stored.get(id) } as unknown as MetadataStore;
  const deps: RegistryDeps = {
    metadata,
    blobs: {} as BlobStore,
    authorizer: allowAll,
    uploadTokens: signer,
    settings: { ...defaultSettings, uploadTtlSeconds: 600 },
    now: () => NOW_MS,
  };

  it('newUploadId gives distinct lowercase UUIDs', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newUploadId()));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('uploadLocation is a same-host path with a signed, expiring _state for repo and session', () => {
    const loc = uploadLocation(deps, 'r/x', ID, 'alice');
    const url = new URL(loc, 'http://registry.invalid');
    assert.ok(loc.startsWith('/'), 'a path, not an absolute URL');
    assert.equal(url.pathname, `/v2/r/x/blobs/uploads/${ID}`);
    const state = url.searchParams.get('_state');
    assert.ok(state);
    assert.equal(signer.verify(state, NOW_MS / 1000), `r/x|${ID}|alice`);
    assert.equal(signer.verify(state, NOW_MS / 1000 + 601), undefined, 'the token expires with the upload TTL');
  });

  it('sessionHeaders: Location, Range and Docker-Upload-UUID', () => {
    const h = sessionHeaders(deps, session(42), ALICE);
    assert.equal(h.range, '0-41');
    assert.equal(h['docker-upload-uuid'], ID);
    assert.ok(h.location?.startsWith(`/v2/r/x/blobs/uploads/${ID}?_state=`));
    assert.equal(sessionHeaders(deps, session(0), ALICE).range, '0-0');
  });

  it('loadSession returns the stored session with a valid _state, and a Location without one is 404', async () => {
    stored.set(ID, session(5));
    const state = new URL(uploadLocation(deps, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal((await loadSession(deps, request({}, `_state=${state}`), 'r/x', ID, ALICE)).offset, 5);
    await expectRejection(loadSession(deps, request(), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
  });

  it('a tampered _state is 400 BLOB_UPLOAD_INVALID', async () => {
    stored.set(ID, session(5));
    const state = new URL(uploadLocation(deps, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    await expectRejection(loadSession(deps, request({}, `_state=${state.slice(0, -2)}xx`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_INVALID', 400);
    await expectRejection(loadSession(deps, request({}, '_state=garbage'), 'r/x', ID, ALICE), 'BLOB_UPLOAD_INVALID', 400);
  });

  it('a token past its expiry is refused (404) even while the session lives; every response hands out a fresh one', async () => {
    const oldState = new URL(uploadLocation({ ...deps, now: () => NOW_MS - 3600_000 }, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal(signer.verify(oldState, NOW_MS / 1000), undefined, 'the old token is past its expiry');
    stored.set(ID, session(5));
    await expectRejection(loadSession(deps, request({}, `_state=${oldState}`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    const fresh = new URL(uploadLocation(deps, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal((await loadSession(deps, request({}, `_state=${fresh}`), 'r/x', ID, ALICE)).offset, 5);
    // Once the session itself has expired, even a fresh token's Location is an unknown upload.
    stored.set(ID, session(5, { expiresAt: NOW_MS - 1 }));
    await expectRejection(loadSession(deps, request({}, `_state=${fresh}`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    stored.delete(ID);
    await expectRejection(loadSession(deps, request({}, `_state=${fresh}`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
  });

  it('a token signed by an upload key that is no longer listed is refused; one signed by an older listed key is accepted', async () => {
    stored.set(ID, session(5));
    const rotated = new TokenSigner([{ id: 'new', secret: 'a-brand-new-upload-key-0123' }, { id: 'k0', secret: 'unit-test-secret-0123456789' }]);
    const oldKeyToken = new URL(uploadLocation(deps, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal((await loadSession({ ...deps, uploadTokens: rotated }, request({}, `_state=${oldKeyToken}`), 'r/x', ID, ALICE)).offset, 5);
    const retired = new TokenSigner([{ id: 'new', secret: 'a-brand-new-upload-key-0123' }]);
    await expectRejection(loadSession({ ...deps, uploadTokens: retired }, request({}, `_state=${oldKeyToken}`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_INVALID', 400);
    assert.match(new URL(uploadLocation({ ...deps, uploadTokens: rotated }, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '', /^new\./, 'the newest key signs');
  });

  it('unknown, malformed or expired sessions are 404 BLOB_UPLOAD_UNKNOWN', async () => {
    stored.clear();
    await expectRejection(loadSession(deps, request(), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    await expectRejection(loadSession(deps, request(), 'r/x', 'not-a-uuid', ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    await expectRejection(loadSession(deps, request(), 'r/x', ID.toUpperCase(), ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    stored.set(ID, session(5, { expiresAt: NOW_MS - 1 }));
    await expectRejection(loadSession(deps, request(), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
  });

  it('a session of repo A addressed under repo B is 404 BLOB_UPLOAD_UNKNOWN (with or without A\'s _state)', async () => {
    stored.set(ID, session(5, { repo: 'r/a' }));
    await expectRejection(loadSession(deps, request(), 'r/b', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
    const stateOfA = new URL(uploadLocation(deps, 'r/a', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    await expectRejection(loadSession(deps, request({}, `_state=${stateOfA}`), 'r/b', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
  });

  it("a session belongs to the principal that started it: another principal's request with its Location is 403 DENIED", async () => {
    stored.set(ID, session(5));
    const state = new URL(uploadLocation(deps, 'r/x', ID, 'alice'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal((await loadSession(deps, request({}, `_state=${state}`), 'r/x', ID, ALICE)).offset, 5);
    for (const subject of ['bob', 'robot$r+ci', 'anonymous', 'alice|x', 'ALICE']) {
      await expectRejection(loadSession(deps, request({}, `_state=${state}`), 'r/x', ID, { subject }), 'DENIED', 403);
    }
    // A subject with the separator in it cannot pose as another field.
    const odd = new URL(uploadLocation(deps, 'r/x', ID, 'a|b'), 'http://h').searchParams.get('_state') ?? '';
    assert.equal((await loadSession(deps, request({}, `_state=${odd}`), 'r/x', ID, { subject: 'a|b' })).offset, 5);
    await expectRejection(loadSession(deps, request({}, `_state=${odd}`), 'r/x', ID, { subject: 'a' }), 'DENIED', 403);
    // A token binding no owner (repo|id) is no session's token.
    const ownerless = signer.sign(`r/x|${ID}`, NOW_MS / 1000 + 600);
    await expectRejection(loadSession(deps, request({}, `_state=${ownerless}`), 'r/x', ID, ALICE), 'BLOB_UPLOAD_UNKNOWN', 404);
  });
});
