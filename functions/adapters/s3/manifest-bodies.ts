// Manifest bodies too large for a DynamoDB item, as S3 objects: the DynamoDB metadata store's
// ManifestBodyStore (functions/adapters/dynamodb/manifest-body-store.ts).
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Thrown when a manifest item names a body object that is not there. */
export class ManifestBodyMissingError extends Error {
  constructor(key: string) {
    super(`manifest body ${key} is missing`);
    this.name = 'ManifestBodyMissingError';
  }
}

/**
 * Manifest bodies as S3 objects in `bucket`. The client should be built with
 * requestChecksumCalculation/responseChecksumValidation 'WHEN_REQUIRED' (makeS3Client in s3-client.ts says why).
 */
export class S3ManifestBodyStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: 'application/octet-stream',
    }));
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (out.Body === undefined) throw new ManifestBodyMissingError(key);
      return await out.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') throw new ManifestBodyMissingError(key);
      throw err;
    }
  }
}
