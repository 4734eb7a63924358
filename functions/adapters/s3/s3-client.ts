// One place that builds S3 clients, so every caller gets the same checksum and addressing settings.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  region: string;
  /** A custom endpoint (s3rver, MinIO, LocalStack); real S3 needs none. */
  endpoint?: string;
  /** Path-style addressing (`http://host/bucket/key`), needed by local endpoints without wildcard DNS. */
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
  /** SDK attempts per call (retries of throttling, 5xx and network errors included); SDK default 3. */
  maxAttempts?: number;
  /** Milliseconds to open a connection before the attempt fails (retried). Default 5,000. */
  connectionTimeoutMs?: number;
  /** Milliseconds a socket may sit idle mid-request before the attempt fails (retried). Default 120,000: s3rver answers a big CompleteMultipartUpload only after it has concatenated every part (real S3 keeps the connection alive meanwhile). */
  socketTimeoutMs?: number;
}

/**
 * An S3 client that computes and validates checksums only where S3 requires them. The SDK's default
 * (WHEN_SUPPORTED) sends streamed bodies aws-chunked with a trailing CRC32 and adds an empty-body
 * CRC32 to presigned PUTs, which real S3 then rejects (aws-sdk-js-v3#6994). Where this adapter wants
 * S3 to verify bytes it sets `ChecksumSHA256` itself.
 */
export function makeS3Client(opts: S3ClientOptions): S3Client {
  const config: S3ClientConfig = {
    region: opts.region,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK waits forever on a stalled connection by default; a stuck request must fail and retry.
    requestHandler: { connectionTimeout: opts.connectionTimeoutMs ?? 5_000, socketTimeout: opts.socketTimeoutMs ?? 120_000 },
  };
  if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
  if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
  if (opts.credentials !== undefined) config.credentials = opts.credentials;
  if (opts.maxAttempts !== undefined) config.maxAttempts = opts.maxAttempts;
  return new S3Client(config);
}
