// An in-process s3rver (one per test file) and S3 clients for it that behave like real S3 where
// s3rver does not (see s3-strict.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3Client } from '@aws-sdk/client-s3';
import { answerPutsWhenWritten, keepS3rverDirectories } from '../../dev/start-aws/s3-local.ts';
import { listWithoutStats } from '../../dev/start-aws/s3-listing.ts';
import { makeS3Client } from '../../functions/adapters/s3/s3-client.ts';
import { S3Strictness } from './s3-strict.ts';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** Wire calls and real-S3 checks shared by every client of this S3. */
  strict: S3Strictness;
  /** A new client (as a new Lambda or task would have), with the checks and the call log installed. */
  client(): S3Client;
  stop(): Promise<void>;
}

export async function startLocalS3(bucket = 'registry-test'): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  answerPutsWhenWritten(server);
  listWithoutStats(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const strict = new S3Strictness();
  const clients: S3Client[] = [];
  await keepS3rverDirectories(endpoint, bucket);
  return {
    endpoint,
    bucket,
    strict,
    client() {
      const c = makeS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      strict.install(c);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export { keepS3rverDirectories } from '../../dev/start-aws/s3-local.ts';
