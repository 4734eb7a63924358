// The S3 BlobStore under S3 faults: aws-sdk-client-mock fails one chosen call of a client whose
// other calls go over the wire to s3rver; the request fails cleanly and the retry succeeds.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../../functions/adapters/s3/s3-blob-store.ts';
import { parseState } from '../../../functions/adapters/s3/upload-state.ts';
import type { BlobRecord } from '../../../functions/core/ports.ts';
import { chunked, sha256 } from '../../contract/blob-store.contract.ts';
import { startLocalS3, type LocalS3 } from '../../support/s3-local.ts';

const MiB = 1024 * 1024;
let s3: LocalS3;

beforeAll(async () => {
  s3 = await startLocalS3();
});
afterAll(async () => {
  await s3?.stop();
});

async function fetchBytes(store: S3BlobStore, blob: BlobRecord): Promise<Buffer> {
  const res = await fetch(await store.readUrl(blob, { expiresInSeconds: 60 }));
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('S3 blob store under S3 faults (aws-sdk-client-mock)', { timeout: 120_000 }, () => {
  const slowDown = () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' });

  type Command = new (input: object) => object;
  const commands = [
    CreateMultipartUploadCommand,
    UploadPartCommand,
    CompleteMultipartUploadCommand,
    AbortMultipartUploadCommand,
    PutObjectCommand,
    GetObjectCommand,
    DeleteObjectCommand,
    PutObjectTaggingCommand,
  ] as unknown as Command[];

  /**
   * A mocked client whose calls go to the local S3, except those a test scheduled to fail:
   * `failAt(UploadPartCommand, 2, err)` fails the second UploadPart from now on.
   */
  function faultyClient() {
    const client = s3.client();
    const real = s3.client();
    const mock = mockClient(client);
    const faults = new Map<Command, { at: number; error: Error }>();
    for (const Cmd of commands) {
      let seen = 0;
      mock.on(Cmd as never).callsFake((input: object) => {
        seen++;
        const f = faults.get(Cmd);
        if (f && f.at === seen) throw f.error;
        return real.send(new Cmd(input) as never);
      });
    }
    const failAt = (Cmd: unknown, nth: number, error: Error) => {
      faults.set(Cmd as Command, { at: mock.commandCalls(Cmd as never).length + nth, error });
    };
    return { client, mock, failAt };
  }

  it('SlowDown on UploadPart fails the request; the previous state takes the retry', async () => {
    const { client, mock, failAt } = faultyClient();
    try {
      const store = new S3BlobStore({ client, bucket: s3.bucket });
      const id = randomUUID();
      const first = randomBytes(2 * MiB);
      const base = await store.appendUpload(id, 0, await store.startUpload(id), chunked(first));
      const second = randomBytes(20 * MiB);
      failAt(UploadPartCommand, 1, slowDown());
      await expect(store.appendUpload(id, base.offset, base.state, chunked(second))).rejects.toMatchObject({ name: 'SlowDown' });
      // The multipart upload this failed request created was aborted; the old state never knew it.
      expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
      const up = await store.appendUpload(id, base.offset, base.state, chunked(second));
      const bytes = Buffer.concat([first, second]);
      const { location } = await store.finishUpload(id, up.offset, up.state, sha256(bytes));
      expect(sha256(await fetchBytes(store, { digest: sha256(bytes), size: bytes.length, location, createdAt: 0 }))).toBe(sha256(bytes));
    } finally {
      mock.restore();
    }
  });

  it('SlowDown on a later UploadPart of an existing multipart upload: the retry reuses the part numbers', async () => {
    const { client, mock, failAt } = faultyClient();
    try {
      const store = new S3BlobStore({ client, bucket: s3.bucket });
      const id = randomUUID();
      const first = randomBytes(6 * MiB);
      const base = await store.appendUpload(id, 0, await store.startUpload(id), chunked(first));
      const second = randomBytes(30 * MiB);
      failAt(UploadPartCommand, 2, slowDown());
      await expect(store.appendUpload(id, base.offset, base.state, chunked(second))).rejects.toMatchObject({ name: 'SlowDown' });
      expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0); // the upload belongs to the recorded state
      const up = await store.appendUpload(id, base.offset, base.state, chunked(second));
      const bytes = Buffer.concat([first, second]);
      const { location } = await store.finishUpload(id, up.offset, up.state, sha256(bytes));
      expect(sha256(await fetchBytes(store, { digest: sha256(bytes), size: bytes.length, location, createdAt: 0 }))).toBe(sha256(bytes));
    } finally {
      mock.restore();
    }
  });

  it('SlowDown on the tail segment write fails the request; the previous state takes the retry', async () => {
    const { client, mock, failAt } = faultyClient();
    try {
      const store = new S3BlobStore({ client, bucket: s3.bucket });
      const id = randomUUID();
      const first = randomBytes(1000);
      const base = await store.appendUpload(id, 0, await store.startUpload(id), chunked(first));
      failAt(PutObjectCommand, 1, slowDown());
      const second = randomBytes(2000);
      await expect(store.appendUpload(id, base.offset, base.state, chunked(second))).rejects.toMatchObject({ name: 'SlowDown' });
      const up = await store.appendUpload(id, base.offset, base.state, chunked(second));
      const bytes = Buffer.concat([first, second]);
      const { location } = await store.finishUpload(id, up.offset, up.state, sha256(bytes));
      expect(await fetchBytes(store, { digest: sha256(bytes), size: bytes.length, location, createdAt: 0 })).toEqual(bytes);
    } finally {
      mock.restore();
    }
  });

  it('a first segment whose final key is taken (412: a late writer put other bytes there) goes under uploads/; the blob is the bytes hashed', async () => {
    const { client, mock, failAt } = faultyClient();
    try {
      const store = new S3BlobStore({ client, bucket: s3.bucket });
      const id = randomUUID();
      const start = await store.startUpload(id);
      // A writer whose state was never recorded got the final key first (s3rver does not enforce
      // If-None-Match, so the 412 real S3 answers the next writer is injected).
      await store.appendUpload(id, 0, start, chunked(randomBytes(1000)));
      failAt(PutObjectCommand, 1, new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }));
      const bytes = randomBytes(1000);
      const up = await store.appendUpload(id, 0, start, chunked(bytes));
      const puts = mock.commandCalls(PutObjectCommand).slice(-2).map((c) => c.args[0].input);
      expect(puts.map((p) => [p.Key, p.IfNoneMatch])).toEqual([
        [`blobs/by-upload/${id}`, '*'],
        [expect.stringMatching(new RegExp(`^uploads/${id}/tail-0-`)), undefined],
      ]);
      expect(parseState(up.state).tail.map((t) => t.key)).toEqual([puts[1]?.Key]);
      const { location } = await store.finishUpload(id, up.offset, up.state, sha256(bytes));
      // Written whole (sha256 checked by S3) over the late writer's object, which leaves no pending tag.
      expect(await fetchBytes(store, { digest: sha256(bytes), size: bytes.length, location, createdAt: 0 })).toEqual(bytes);
      expect(mock.commandCalls(PutObjectTaggingCommand)).toHaveLength(0);
    } finally {
      mock.restore();
    }
  });

  it('SlowDown on CompleteMultipartUpload fails finishUpload; finishing again from the same state succeeds', async () => {
    const { client, mock, failAt } = faultyClient();
    try {
      const store = new S3BlobStore({ client, bucket: s3.bucket });
      const id = randomUUID();
      const bytes = randomBytes(12 * MiB + 3);
      const up = await store.appendUpload(id, 0, await store.startUpload(id), chunked(bytes));
      failAt(CompleteMultipartUploadCommand, 1, slowDown());
      await expect(store.finishUpload(id, up.offset, up.state, sha256(bytes))).rejects.toMatchObject({ name: 'SlowDown' });
      const { location } = await store.finishUpload(id, up.offset, up.state, sha256(bytes));
      expect(sha256(await fetchBytes(store, { digest: sha256(bytes), size: bytes.length, location, createdAt: 0 }))).toBe(sha256(bytes));
    } finally {
      mock.restore();
    }
  });
});
