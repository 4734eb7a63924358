// What the smoke pushes: small generated blobs and manifests, fresh each run (random bytes, so no
// dedupe or cache can make a path look as if it worked).
import { createHash, randomBytes } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const EMPTY = Buffer.from('{}');

export const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Blob {
  bytes: Buffer;
  digest: string;
}

const blob = (bytes: Buffer): Blob => ({ bytes, digest: digestOf(bytes) });

export interface SmokeImage {
  config: Blob;
  /** Pushed with one monolithic PUT (the edge fast path where there is one). */
  small: Blob;
  /** Over 4.5 MiB, streamed in one chunked PATCH (ingest where there is one). */
  streamed: Blob;
  /** Sent in three PATCHes with Content-Range (through the API). */
  chunked: Blob;
  empty: Blob;
  manifest(): Buffer;
  referrer(subject: { digest: string; size: number }): Buffer;
}

export function makeImage(): SmokeImage {
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, smoke: randomBytes(8).toString('hex') })));
  const small = blob(randomBytes(4096));
  const streamed = blob(randomBytes(6 * 1024 * 1024));
  const chunked = blob(randomBytes(3 * 40 * 1024));
  const empty = blob(EMPTY);
  const desc = (b: Blob, mediaType: string) => ({ mediaType, digest: b.digest, size: b.bytes.length });
  return {
    config, small, streamed, chunked, empty,
    manifest: () => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(config, OCI_CONFIG),
      layers: [desc(small, OCI_LAYER), desc(streamed, OCI_LAYER), desc(chunked, OCI_LAYER)],
    })),
    referrer: (subject) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.smoke',
      config: desc(empty, 'application/vnd.oci.empty.v1+json'), layers: [desc(empty, 'application/vnd.oci.empty.v1+json')],
      subject: { mediaType: OCI_MANIFEST, ...subject },
    })),
  };
}
