// Where manifest bodies too large for a DynamoDB item live (items hold at most 400 KB; OCI allows
// 4 MiB manifests): a tiny port, so this adapter does not depend on S3. The AWS wiring passes the
// S3 one (functions/adapters/s3/manifest-bodies.ts).
export interface ManifestBodyStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes stored under `key`; throws if they are missing. */
  get(key: string): Promise<Uint8Array>;
}
