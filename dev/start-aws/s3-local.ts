// s3rver in process, standing in for the registry's bucket under `npm run start:aws` and the tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { makeS3Client } from '../../functions/adapters/s3/s3-client.ts';
import { s3RangeMiddleware } from './s3-ranges.ts';

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
