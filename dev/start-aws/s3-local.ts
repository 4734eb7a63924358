// s3rver in process, standing in for the registry's bucket under `npm run start:aws` and the tests.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { makeS3Client } from '../../functions/adapters/s3/s3-client.ts';
import { s3RangeMiddleware } from './s3-ranges.ts';
import { listWithoutStats } from './s3-listing.ts';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Local {
  endpoint: string;
  bucket: string;
  /** s3rver's S3-style notifications (ObjectCreated:Put, ...), one event per object. */
  onEvent(listener: (event: S3Event) => void): void;
  stop(): Promise<void>;
}

export async function startS3Local(bucket: string, opts: { directory?: string; host?: string } = {}): Promise<S3Local> {
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 's3rver-')));
  const server = new S3rver({ port: 0, address: opts.host ?? '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  // s3rver is a Koa app: this runs before its routes (Koa composes the list when it starts listening).
  const app = server as unknown as { middleware: unknown[]; store: { getResourcePath(bucket: string, key: string, resource: string): string } };
  app.middleware.unshift(s3RangeMiddleware((b, k) => app.store.getResourcePath(b, k, 'object')));
  answerPutsWhenWritten(server);
  listWithoutStats(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  await keepS3rverDirectories(endpoint, bucket);
  return {
    endpoint,
    bucket,
    onEvent(listener) {
      (server as unknown as { on(e: 'event', l: (event: S3Event) => void): void }).on('event', listener);
    },
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      if (opts.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver stores keys as files and, after a delete, removes every directory the delete left empty,
 * racing a concurrent put into one of them (the put then fails with ENOENT and its request hangs).
 * Real S3 has no directories. A placeholder object in each shared prefix keeps those directories
 * from ever being empty; per-upload prefixes see one request at a time (the session lease).
 */
export async function keepS3rverDirectories(endpoint: string, bucket: string): Promise<void> {
  const c = makeS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
  try {
    for (const prefix of ['uploads/', 'blobs/by-upload/', 'blobs/sha256/', 'blobs/sha512/', 'blobs/r/', 'manifests/']) {
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}.keep`, Body: new Uint8Array(0) }));
    }
  } finally {
    c.destroy();
  }
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: unknown;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver 3.7 answers a PutObject before the object's file is written (it does not wait for the
 * write stream to finish), so a GetObject right after may read an empty or short object; real S3
 * has read-after-write consistency. Its store's putObject, writing the file to the end first.
 */
export function answerPutsWhenWritten(server: S3rver): void {
  const store = (server as unknown as { store: S3rverStore }).store;
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    source.on('data', (chunk: Buffer) => {
      md5.update(chunk);
      size += chunk.length;
    });
    await pipeline(source, createWriteStream(path));
    const hex = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, hex);
    return { size, md5: hex };
  };
}
