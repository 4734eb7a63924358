// Unexpected errors from a storage port, through the core on real adapters: they become 500 UNKNOWN
// (no body for HEAD, no internal text leaked) and reach onError; OCI errors do not.
import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { StorageFullError, UploadGoneError } from '../../functions/core/ports.ts';
import { assertError, errorCodeOf, failingMethod, filesUnder, setup, sha256, startSession, utf8, withDigest } from './real-adapters.ts';

describe('unexpected errors from a port', () => {
  it('a metadata error becomes 500 UNKNOWN, and onError receives it', async (t) => {
    const boom = new Error('metadata store exploded');
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'getLinkedBlob', boom) });
    const r = await f.call('GET', `/v2/r/x/blobs/${sha256('x')}`);
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    const doc = r.json() as { errors: { code: string; message: string }[] };
    assert.equal(doc.errors[0]?.code, 'UNKNOWN');
    assert.ok(!JSON.stringify(doc).includes('exploded'), 'internal error text is not leaked to clients');
    assert.equal(f.errors.length, 1);
    assert.equal(f.errors[0]?.error, boom);
    assert.equal(f.errors[0]?.req.method, 'GET');
    assert.equal(f.errors[0]?.req.path, `/v2/r/x/blobs/${sha256('x')}`);
  });

  it('a HEAD that fails unexpectedly is a 500 without a body', async (t) => {
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'headManifest', new Error('boom')) });
    const r = await f.call('HEAD', '/v2/r/x/manifests/latest');
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.equal(r.body, undefined, 'HEAD responses carry no body');
    assert.equal(f.errors.length, 1);
  });

  it('a blob store error during commit becomes 500 UNKNOWN with onError, not an OCI error', async (t) => {
    const boom = new Error('disk on fire');
    const f = await setup(t, { wrapBlobs: (b) => failingMethod(b, 'finishUpload', boom) });
    const bytes = utf8('hello');
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: bytes });
    assert.equal(r.status, 500, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.deepEqual(
      f.errors.map((e) => e.error),
      [boom],
    );
    assert.equal((await f.call('HEAD', `/v2/r/x/blobs/${sha256(bytes)}`)).status, 404, 'nothing recorded after the failed commit');
  });

  it('a full store becomes 507 (code UNKNOWN) with onError; an upload gone meanwhile becomes 404 BLOB_UPLOAD_UNKNOWN', async (t) => {
    const full = new StorageFullError('storage is full (ENOSPC)');
    const f = await setup(t, { wrapBlobs: (b) => failingMethod(b, 'appendUpload', full) });
    const bytes = utf8('hello');
    const r = await f.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: bytes });
    assert.equal(r.status, 507, r.where);
    assert.equal(r.errorCode, 'UNKNOWN');
    assert.deepEqual(f.errors.map((e) => e.error), [full]);
    const g = await setup(t, { wrapBlobs: (b) => failingMethod(b, 'finishUpload', new UploadGoneError()) });
    const gone = await g.call('POST', `/v2/r/x/blobs/uploads/?digest=${sha256(bytes)}`, { body: bytes });
    assert.equal(gone.status, 404, gone.where);
    assert.equal(gone.errorCode, 'BLOB_UPLOAD_UNKNOWN');
    assert.deepEqual(g.errors, [], 'a lost race is not an unexpected error');
  });

  it('when the session cannot record appended bytes, the session is dropped (404 afterwards), not left disagreeing with the store', async (t) => {
    const full = new StorageFullError('storage is full (SQLite)');
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'updateUpload', full) });
    const loc = await startSession(f, 'r/x');
    const r = await f.call('PATCH', loc, { body: utf8('some bytes') });
    assert.equal(r.status, 507, r.where);
    assertError(await f.call('GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await f.call('PUT', withDigest(loc, sha256('some bytes'))), 404, 'BLOB_UPLOAD_UNKNOWN');
    assert.deepEqual(await filesUnder(f, 'uploads'), [], 'no upload bytes left behind');
  });

  it('a session that cannot be recorded leaves no upload file behind', async (t) => {
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'createUpload', new StorageFullError()) });
    const r = await f.call('POST', '/v2/r/x/blobs/uploads/');
    assert.equal(r.status, 507, r.where);
    assert.deepEqual(await filesUnder(f, 'uploads'), []);
  });

  it('a non-Error thrown value is handled the same way', async (t) => {
    const f = await setup(t, { wrapMetadata: (m) => failingMethod(m, 'listRepositories', 'just a string') });
    const r = await f.call('GET', '/v2/_catalog');
    assert.equal(r.status, 500, r.where);
    assert.equal(errorCodeOf(r), 'UNKNOWN');
    assert.deepEqual(
      f.errors.map((e) => e.error),
      ['just a string'],
    );
  });

  it('OCI errors are not reported to onError', async (t) => {
    const f = await setup(t);
    assert.equal((await f.call('GET', `/v2/r/x/blobs/${sha256('absent')}`)).status, 404);
    assert.equal((await f.call('GET', '/v2/r/x/manifests/BAD:REF')).status, 404);
    assert.equal((await f.call('GET', '/v2/NOPE/tags/list')).status, 400);
    assert.deepEqual(f.errors, []);
  });
});
