// The BlobStore contract: what the core relies on, run against every adapter. Each "request" below is
// one appendUpload call from the state the previous one returned, as the core does across requests.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DigestMismatchError,
  UploadConflictError,
  UploadGoneError,
  UploadSizeError,
  type BlobRecord,
  type BlobStore,
} from '../../functions/core/ports.ts';

const MiB = 1024 * 1024;

export interface BlobStoreContractOptions {
  /** Fetches a URL returned by readUrl (resolving a relative one against the server that serves it). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Per-test timeout (ms); the over-the-wire adapters move tens of MiB per test. */
  timeout?: number;
}

interface Upload {
  id: string;
  offset: number;
  state: string;
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One request body, delivered as `piece`-sized chunks (as an HTTP body arrives). */
export async function* chunked(bytes: Uint8Array, piece = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, Math.min(i + piece, bytes.length));
}

/**
 * @param makeStore a new store object over the same backend each call (another Lambda, another task).
 */
export function blobStoreContract(name: string, makeStore: () => BlobStore | Promise<BlobStore>, opts: BlobStoreContractOptions = {}): void {
  const get = opts.fetch ?? ((url: string, init?: RequestInit) => fetch(url, init));

  async function start(store: BlobStore): Promise<Upload> {
    const id = randomUUID();
    return { id, offset: 0, state: await store.startUpload(id) };
  }

  /** One appendUpload per element of `requests`, each from the state the previous one returned. */
  async function send(store: BlobStore, up: Upload, ...requests: Uint8Array[]): Promise<Upload> {
    let cur = up;
    for (const body of requests) {
      const next = await store.appendUpload(cur.id, cur.offset, cur.state, chunked(body), body.length);
      expect(next.offset).toBe(cur.offset + body.length);
      cur = { id: cur.id, ...next };
    }
    return cur;
  }

  async function finish(store: BlobStore, up: Upload, digest: string): Promise<BlobRecord> {
    const { location } = await store.finishUpload(up.id, up.offset, up.state, digest);
    expect(typeof location).toBe('string');
    return { digest, size: up.offset, location, createdAt: Date.now() };
  }

  async function served(store: BlobStore, blob: BlobRecord, range?: string): Promise<{ status: number; bytes: Buffer }> {
    const url = await store.readUrl(blob, { expiresInSeconds: 300 });
    const res = await get(url, range ? { headers: { range } } : undefined);
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  async function expectServed(store: BlobStore, blob: BlobRecord, bytes: Uint8Array): Promise<void> {
    const got = await served(store, blob);
    expect(got.status).toBe(200);
    expect(got.bytes.length).toBe(bytes.length);
    expect(sha256(got.bytes)).toBe(sha256(bytes));
  }

  /** Splits `bytes` into pieces of the given sizes (the last takes the rest). */
  function split(bytes: Uint8Array, ...sizes: number[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    for (const n of sizes) {
      out.push(bytes.subarray(at, at + n));
      at += n;
    }
    out.push(bytes.subarray(at));
    return out;
  }

  describe(`BlobStore contract: ${name}`, { timeout: opts.timeout ?? 60_000 }, () => {
    it('takes a blob in one request and serves it after finishUpload', async () => {
      const store = await makeStore();
      const bytes = randomBytes(7 * MiB + 123);
      const up = await send(store, await start(store), bytes);
      const blob = await finish(store, up, sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('takes a small blob in one request', async () => {
      const store = await makeStore();
      const bytes = randomBytes(1000);
      const blob = await finish(store, await send(store, await start(store), bytes), sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('takes an empty blob', async () => {
      const store = await makeStore();
      const empty = new Uint8Array(0);
      const up = await send(store, await start(store), empty);
      expect(up.offset).toBe(0);
      const blob = await finish(store, up, sha256(empty));
      await expectServed(store, blob, empty);
    });

    it('takes many requests of under 5 MiB each', async () => {
      const store = await makeStore();
      const bytes = randomBytes(14 * MiB + 5);
      const sizes = Array.from({ length: 20 }, () => 700 * 1024);
      const up = await send(store, await start(store), ...split(bytes, ...sizes));
      const blob = await finish(store, up, sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('takes one byte per request', async () => {
      const store = await makeStore();
      const bytes = randomBytes(70);
      const up = await send(store, await start(store), ...split(bytes, ...Array.from({ length: 69 }, () => 1)));
      expect(up.offset).toBe(70);
      const blob = await finish(store, up, sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('takes requests under 5 MiB followed by a big one and a last small one', async () => {
      const store = await makeStore();
      const bytes = randomBytes(3 * MiB + 21 * MiB + 2);
      const up = await send(store, await start(store), ...split(bytes, MiB, MiB, MiB, 21 * MiB));
      const blob = await finish(store, up, sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('lets a second store object take over mid-upload from the saved state', async () => {
      const a = await makeStore();
      const b = await makeStore();
      const bytes = randomBytes(6 * MiB + 3 * MiB + 1 + 4000);
      const [p1, p2, p3, p4] = split(bytes, 6 * MiB + 1, 3 * MiB, 1000) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      let up = await send(a, await start(a), p1);
      up = await send(b, up, p2);
      up = await send(a, up, p3);
      up = await send(b, up, p4);
      const blob = await finish(a, up, sha256(bytes));
      await expectServed(b, blob, bytes);
    });

    it('keeps the previous state usable after an append whose result was never recorded', async () => {
      const store = await makeStore();
      const first = randomBytes(2 * MiB);
      const base = await send(store, await start(store), first);
      // A request that succeeded but whose new state was lost (its session update failed) ...
      await send(store, base, randomBytes(6 * MiB));
      // ... and the retry of a client from the recorded state, with other bytes.
      const second = randomBytes(5 * MiB + 7);
      const up = await send(store, base, second);
      const bytes = Buffer.concat([first, second]);
      const blob = await finish(store, up, sha256(bytes));
      await expectServed(store, blob, bytes);
    });

    it('refuses a body of another length than announced, leaving the previous state usable', async () => {
      const store = await makeStore();
      const first = randomBytes(MiB);
      const base = await send(store, await start(store), first);
      const long = randomBytes(6 * MiB);
      await expect(store.appendUpload(base.id, base.offset, base.state, chunked(long), 6 * MiB - 1)).rejects.toBeInstanceOf(UploadSizeError);
      await expect(store.appendUpload(base.id, base.offset, base.state, chunked(long), 6 * MiB + 1)).rejects.toBeInstanceOf(UploadSizeError);
      const err = await store.appendUpload(base.id, base.offset, base.state, chunked(long.subarray(0, 100)), 200).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UploadSizeError);
      expect((err as UploadSizeError).received).toBe(100);
      const up = await send(store, base, long);
      const bytes = Buffer.concat([first, long]);
      await expectServed(store, await finish(store, up, sha256(bytes)), bytes);
    });

    for (const cut of [100, 11 * MiB]) {
      it(`keeps the previous state usable when the body fails after ${cut} bytes (a client gone mid-request)`, async () => {
        const store = await makeStore();
        const first = randomBytes(3 * MiB);
        const base = await send(store, await start(store), first);
        const second = randomBytes(12 * MiB);
        async function* broken(): AsyncGenerator<Uint8Array> {
          yield* chunked(second.subarray(0, cut));
          throw new Error('client went away');
        }
        await expect(store.appendUpload(base.id, base.offset, base.state, broken())).rejects.toThrow('client went away');
        const up = await send(store, base, second);
        const bytes = Buffer.concat([first, second]);
        await expectServed(store, await finish(store, up, sha256(bytes)), bytes);
      });
    }

    it('refuses an append at another offset than the upload holds', async () => {
      const store = await makeStore();
      const up = await send(store, await start(store), randomBytes(10));
      await expect(store.appendUpload(up.id, 5, up.state, chunked(randomBytes(5)))).rejects.toBeInstanceOf(UploadConflictError);
    });

    for (const size of [1000, 6 * MiB]) {
      it(`discards the bytes on a digest mismatch (${size} bytes)`, async () => {
        const store = await makeStore();
        const bytes = randomBytes(size);
        const up = await send(store, await start(store), bytes);
        const wrong = sha256(randomBytes(8));
        const err = await store.finishUpload(up.id, up.offset, up.state, wrong).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DigestMismatchError);
        expect((err as DigestMismatchError).actual).toBe(sha256(bytes));
        await expect(store.finishUpload(up.id, up.offset, up.state, sha256(bytes))).rejects.toBeInstanceOf(UploadGoneError);
      });
    }

    it('refuses to finish with another size than the upload holds, and finishes with the right one', async () => {
      const store = await makeStore();
      const bytes = randomBytes(6 * MiB + 10);
      const up = await send(store, await start(store), bytes);
      await expect(store.finishUpload(up.id, up.offset - 1, up.state, sha256(bytes.subarray(0, bytes.length - 1)))).rejects.toBeInstanceOf(
        UploadConflictError,
      );
      await expect(store.finishUpload(up.id, up.offset + 1, up.state, sha256(bytes))).rejects.toBeInstanceOf(UploadConflictError);
      await expectServed(store, await finish(store, up, sha256(bytes)), bytes);
    });

    for (const size of [1000, 6 * MiB]) {
      it(`abortUpload discards the bytes and is idempotent (${size} bytes)`, async () => {
        const store = await makeStore();
        const bytes = randomBytes(size);
        const up = await send(store, await start(store), bytes);
        await store.abortUpload(up.id, up.state);
        await store.abortUpload(up.id, up.state);
        await expect(store.finishUpload(up.id, up.offset, up.state, sha256(bytes))).rejects.toBeInstanceOf(UploadGoneError);
      });
    }

    it('putBlob stores verified bytes that readUrl serves, with ranges', async () => {
      const store = await makeStore();
      const bytes = randomBytes(4096);
      const digest = sha256(bytes);
      const location = await store.putBlob(digest, bytes);
      const blob: BlobRecord = { digest, size: bytes.length, location, createdAt: Date.now() };
      await expectServed(store, blob, bytes);
      const part = await served(store, blob, 'bytes=2-5');
      expect(part.status).toBe(206);
      expect(part.bytes).toEqual(Buffer.from(bytes.subarray(2, 6)));
      // Another store object serves it too (the URL is computed, nothing is remembered).
      await expectServed(await makeStore(), blob, bytes);
    });

    it('serves ranges of an uploaded blob', async () => {
      const store = await makeStore();
      const bytes = randomBytes(6 * MiB + 1);
      const blob = await finish(store, await send(store, await start(store), bytes), sha256(bytes));
      const part = await served(store, blob, `bytes=${5 * MiB - 2}-${5 * MiB + 2}`);
      expect(part.status).toBe(206);
      expect(part.bytes).toEqual(Buffer.from(bytes.subarray(5 * MiB - 2, 5 * MiB + 3)));
    });

    it('deleteBlob removes the bytes and is idempotent', async () => {
      const store = await makeStore();
      const bytes = randomBytes(300);
      const blob = await finish(store, await send(store, await start(store), bytes), sha256(bytes));
      await expectServed(store, blob, bytes);
      await store.deleteBlob(blob.location);
      await store.deleteBlob(blob.location);
      expect((await served(store, blob)).status).toBeGreaterThanOrEqual(400);
    });

    it('never loses the first upload of some bytes when a duplicate upload of them is deleted', async () => {
      // The core deletes a duplicate's bytes when another upload recorded the blob first (unless both
      // name the same location): the first upload's bytes must survive.
      const store = await makeStore();
      const bytes = randomBytes(2000);
      const a = await finish(store, await send(store, await start(store), bytes), sha256(bytes));
      const b = await finish(store, await send(store, await start(store), bytes), sha256(bytes));
      if (a.location !== b.location) await store.deleteBlob(b.location);
      await expectServed(store, a, bytes);
    });
  });
}
