// FsBlobStore against a real data dir: one request at a time per upload, commits that refuse bytes
// they did not verify, uploads whose file is gone, and a full disk (writes into /dev/full).
import { describe, it, beforeAll, afterAll, vi } from 'vitest';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, open, readFile, rm, stat, symlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../../functions/adapters/fs/fs-blob-store.ts';
import { DigestMismatchError, StorageFullError, UploadConflictError, UploadGoneError } from '../../../functions/core/ports.ts';
import { TokenSigner } from '../../../functions/core/tokens.ts';

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

/** A body that yields `first`, then waits until `release` is called before yielding `rest`. */
function heldBody(first: Uint8Array, rest: Uint8Array): { body: AsyncGenerator<Uint8Array>; started: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  let markStarted = (): void => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const gate = new Promise<void>((r) => (release = r));
  async function* body(): AsyncGenerator<Uint8Array> {
    yield first;
    markStarted();
    await gate;
    yield rest;
  }
  return { body: body(), started, release };
}

let root: string;
let store: FsBlobStore;
let seq = 0;
const newId = (): string => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-blob-store-test-'));
  store = new FsBlobStore(root, new TokenSigner('fs-blob-store-test-secret'));
  await store.init();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FsBlobStore: one request at a time per upload', () => {
  it('while a body streams in, digest and commit of the same upload are refused and the blob is not created', async () => {
    const id = newId();
    await store.startUpload(id);
    const a = randomBytes(1000);
    await store.appendUpload(id, 0, '', chunks(a));
    const held = heldBody(randomBytes(10), randomBytes(10));
    const appending = store.appendUpload(id, a.length, '', held.body);
    await held.started;
    assert.equal(store.isBusy(id), true);
    await assert.rejects(store.finishUpload(id, a.length, '', sha256(a)), UploadConflictError);
    await assert.rejects(store.appendUpload(id, a.length, '', chunks(randomBytes(5))), UploadConflictError);
    held.release();
    assert.deepEqual(await appending, { offset: a.length + 20, state: '' });
    assert.equal(store.isBusy(id), false);
    assert.equal(existsSync(store.blobPath(sha256(a))), false, 'no blob from the refused commit');
  });

  it('finishing from a size the upload has moved on from is refused, and the bytes stay', async () => {
    const id = newId();
    await store.startUpload(id);
    const a = randomBytes(300);
    await store.appendUpload(id, 0, '', chunks(a));
    await store.appendUpload(id, a.length, '', chunks(randomBytes(7)));
    await assert.rejects(store.finishUpload(id, a.length, '', sha256(a)), UploadConflictError);
    assert.equal(existsSync(store.blobPath(sha256(a))), false);
    const all = await readFile(store.uploadPath(id));
    assert.deepEqual(await store.finishUpload(id, all.length, '', sha256(all)), { location: store.blobLocation(sha256(all)) });
    assert.deepEqual(await readFile(store.blobPath(sha256(all))), all);
  });

  it('a digest mismatch discards the bytes; a second copy of a stored blob goes beside the first, never over it', async () => {
    const a = randomBytes(64);
    const id = newId();
    await store.startUpload(id);
    await store.appendUpload(id, 0, '', chunks(a));
    await assert.rejects(store.finishUpload(id, a.length, '', sha256(randomBytes(64))), DigestMismatchError);
    assert.equal(existsSync(store.uploadPath(id)), false);
    const first = newId();
    const second = newId();
    for (const u of [first, second]) {
      await store.startUpload(u);
      await store.appendUpload(u, 0, '', chunks(a));
    }
    const { location } = await store.finishUpload(first, a.length, '', sha256(a));
    assert.equal(location, store.blobLocation(sha256(a)));
    const { location: beside } = await store.finishUpload(second, a.length, '', sha256(a));
    assert.match(beside, new RegExp(`^${location}\\.[0-9a-f]{16}$`));
    assert.equal(existsSync(store.uploadPath(second)), false);
    // The core keeps the first record and deletes the later copy (blob-records.ts).
    await store.deleteBlob(beside);
    assert.deepEqual(readFileSync(store.blobPath(sha256(a))), a);
    await store.deleteBlob(location);
    assert.equal(existsSync(store.blobPath(sha256(a))), false);
    await assert.rejects(store.deleteBlob('../secret'), /not a blob location/);
  });

  it('a record that names the later copy (its upload was recorded first) is read from that copy, with a URL that binds it', async () => {
    const a = randomBytes(64);
    const digest = sha256(a);
    const location = await store.putBlob(digest, a);
    const copy = await store.putBlob(digest, a);
    assert.notEqual(copy, location);
    const suffix = copy.slice(location.length + 1);
    const record = { digest, size: a.length, location: copy, createdAt: 0 };
    const url = new URL(await store.readUrl(record, { expiresInSeconds: 60 }), 'http://h');
    assert.equal(url.searchParams.get('copy'), suffix);
    const token = url.searchParams.get('token');
    assert.equal(store.verifyReadToken(digest, token, suffix), true);
    // The copy's token is not the content-addressed file's, nor another copy's; a malformed copy is refused.
    assert.equal(store.verifyReadToken(digest, token), false);
    assert.equal(store.verifyReadToken(digest, token, 'f'.repeat(16)), false);
    assert.equal(store.verifyReadToken(digest, token, '../../x'), false);
    assert.throws(() => store.blobPath(digest, '../../x'), /not a copy/);
    // With the content-addressed file gone (deleted as the duplicate), the copy still reads.
    await store.deleteBlob(location);
    assert.deepEqual(readFileSync(store.blobPath(digest, suffix)), a);
    const plain = new URL(await store.readUrl({ ...record, location }, { expiresInSeconds: 60 }), 'http://h');
    assert.equal(plain.searchParams.has('copy'), false);
    assert.equal(store.verifyReadToken(digest, plain.searchParams.get('token')), true);
    await store.deleteBlob(copy);
  });

  it('an upload whose file is gone (completed or cancelled meanwhile) is UploadGoneError, not a crash', async () => {
    const id = newId();
    await store.startUpload(id);
    const a = randomBytes(100);
    await store.appendUpload(id, 0, '', chunks(a));
    await store.abortUpload(id);
    await assert.rejects(store.finishUpload(id, a.length, '', sha256(a)), UploadGoneError);
    await assert.rejects(store.appendUpload(id, a.length, '', chunks(randomBytes(3))), UploadGoneError);
    await assert.rejects(store.finishUpload(id, a.length, '', `sha512:${createHash('sha512').update(a).digest('hex')}`), UploadGoneError);
    const other = newId();
    await store.startUpload(other);
    await store.appendUpload(other, 0, '', chunks(a));
    await store.finishUpload(other, a.length, '', sha256(a));
    await assert.rejects(store.finishUpload(other, a.length, '', sha256(a)), UploadGoneError, 'a second finish of the same upload');
  });
});

describe('FsBlobStore: crash leftovers and durability', () => {
  it('after a restart, bytes a crashed request left beyond the session size are cut off before the upload goes on', async () => {
    const id = newId();
    await store.startUpload(id);
    const a = randomBytes(10);
    await store.appendUpload(id, 0, '', chunks(a));
    // A PATCH that wrote 100 bytes and died before its session was updated.
    await appendFile(store.uploadPath(id), randomBytes(100));
    const restarted = new FsBlobStore(root, new TokenSigner('fs-blob-store-test-secret'));
    const b = randomBytes(5);
    await restarted.appendUpload(id, a.length, '', chunks(b));
    const all = Buffer.concat([a, b]);
    await restarted.finishUpload(id, all.length, '', sha256(all));
    assert.deepEqual(await readFile(restarted.blobPath(sha256(all))), all);

    // The same when the upload is completed right away (a PUT without a body), for sha512 too.
    const other = newId();
    await store.startUpload(other);
    await store.appendUpload(other, 0, '', chunks(a));
    await appendFile(store.uploadPath(other), randomBytes(100));
    const again = new FsBlobStore(root, new TokenSigner('fs-blob-store-test-secret'));
    const d512 = `sha512:${createHash('sha512').update(a).digest('hex')}`;
    await again.finishUpload(other, a.length, '', d512);
    assert.deepEqual(await readFile(again.blobPath(d512)), a);
  });

  it('bytes are fsynced before they are acknowledged, and a blob file and its directory before and after the rename', async (t) => {
    const probe = await open(join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const synced: { ino: number; uploadStillThere: boolean }[] = [];
    let datasyncs = 0;
    const id = newId();
    const originalSync = proto.sync;
    const originalDatasync = proto.datasync;
    const syncSpy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: FileHandle) {
      synced.push({ ino: (await this.stat()).ino, uploadStillThere: existsSync(store.uploadPath(id)) });
      return originalSync.call(this);
    });
    const datasyncSpy = vi.spyOn(proto, 'datasync').mockImplementation(async function (this: FileHandle) {
      datasyncs++;
      return originalDatasync.call(this);
    });
    t.onTestFinished(() => {
      syncSpy.mockRestore();
      datasyncSpy.mockRestore();
    });
    await store.startUpload(id);
    const ino = (await stat(store.uploadPath(id))).ino;
    const big = randomBytes(40 * 1024 * 1024);
    await store.appendUpload(id, 0, '', chunks(...Array.from({ length: 40 }, (_, i) => big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))));
    assert.ok(synced.some((s) => s.ino === ino), 'the upload file is fsynced before the append returns');
    assert.ok(datasyncs >= 1, 'writeback starts while a large body streams in');
    synced.length = 0;
    const digest = sha256(big);
    await store.finishUpload(id, big.length, '', digest);
    const blobIno = (await stat(store.blobPath(digest))).ino;
    const dirIno = (await stat(join(store.blobPath(digest), '..'))).ino;
    assert.ok(synced.some((s) => s.ino === blobIno && s.uploadStillThere), 'the blob file is fsynced before it is renamed into place');
    assert.ok(synced.some((s) => s.ino === dirIno && !s.uploadStillThere), 'its directory is fsynced after the rename');
  });
});

describe('FsBlobStore: short writes', () => {
  it('a write that the disk takes only in part (no error, fewer bytes) is completed, never acknowledged short', async (t) => {
    const probe = await open(join(root, 'probe-short'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const originalWritev = proto.writev;
    let calls = 0;
    const writevSpy = vi.spyOn(proto, 'writev').mockImplementation(async function (this: FileHandle, buffers: readonly NodeJS.ArrayBufferView[], position?: number) {
      calls++;
      if (calls !== 2) return originalWritev.call(this, buffers, position);
      const all = Buffer.concat(buffers as readonly Uint8Array[]);
      return originalWritev.call(this, [all.subarray(0, Math.floor(all.length / 3))], position);
    });
    t.onTestFinished(() => writevSpy.mockRestore());
    const id = newId();
    await store.startUpload(id);
    const body = randomBytes(10 * 1024 * 1024);
    const parts = Array.from({ length: 10 }, (_, i) => body.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
    assert.deepEqual(await store.appendUpload(id, 0, '', chunks(...parts)), { offset: body.length, state: '' });
    assert.ok(calls >= 2, 'the short write happened');
    assert.deepEqual(await readFile(store.uploadPath(id)), body);
    assert.equal((await store.finishUpload(id, body.length, '', sha256(body))).location, store.blobLocation(sha256(body)));
  });
});

describe('FsBlobStore: a full disk', () => {
  it('a write that fails mid-body rejects with StorageFullError (no unhandled rejection) and leaves the upload as it was', async (t) => {
    t.skip(!existsSync('/dev/full'), 'no /dev/full on this machine');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const id = newId();
      await store.startUpload(id);
      await rm(store.uploadPath(id));
      await symlink('/dev/full', store.uploadPath(id));
      // 40 MiB in 64 KiB chunks, with pauses so failed writes land while the loop waits for "network".
      async function* body(): AsyncGenerator<Uint8Array> {
        const chunk = randomBytes(64 * 1024);
        for (let i = 0; i < 640; i++) {
          if (i % 64 === 0) await new Promise((r) => setTimeout(r, 5));
          yield chunk;
        }
      }
      await assert.rejects(store.appendUpload(id, 0, '', body()), StorageFullError);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
      assert.equal(store.isBusy(id), false);
      await store.abortUpload(id);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
