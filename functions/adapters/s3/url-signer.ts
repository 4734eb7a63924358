// Read URLs for blob bytes. S3 presigned GETs by default; a CloudFront signer can take its place.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Signs a short-lived GET URL for the object at `location`, without a network call. */
export interface UrlSigner {
  sign(location: string, expiresInSeconds: number): Promise<string>;
}

/**
 * S3 presigned GET URLs (SigV4 query signing, computed locally). Objects are written with
 * Content-Type application/octet-stream, so the URL needs no response override and stays cacheable.
 */
export class S3PresignedUrls implements UrlSigner {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  sign(location: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: location }), { expiresIn: expiresInSeconds });
  }
}
