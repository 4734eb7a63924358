// The digest of an upload's bytes, with node:crypto (OpenSSL; about 5x hash-wasm's speed here).
// A request that starts an upload hashes its bytes as they stream; when it turns out to be the only
// one (docker, podman, skopeo, crane: one PATCH and an empty PUT; containerd, oras: one PUT), its
// digest is the blob's and the finishing request needs nothing else. No resumable hash state travels
// between requests: an upload whose bytes arrived in several requests is verified once, when it is
// finished, by reading the stored blob back (s3-blob-store.ts). See docs/s3-blob-store.md.
// Only sha256 runs per byte: a sha512 digest (rare) is verified by reading the blob back, as
// `npm start` re-reads its file for one; a running sha512 cost ingest about a fifth of its CPU.
import { createHash, type Hash } from 'node:crypto';

/** Digests (hex) of all the bytes of an upload that arrived in one request. */
export interface KnownDigests {
  sha256: string;
  /** Present only in states recorded while a running sha512 was kept (read, never written now). */
  sha512?: string;
}

/** Hashes one request's bytes (sha256). */
export class StreamDigests {
  readonly #sha256: Hash = createHash('sha256');

  update(bytes: Uint8Array): void {
    this.#sha256.update(bytes);
  }

  result(): KnownDigests {
    return { sha256: this.#sha256.digest('hex') };
  }
}

/** `<algorithm>:<hex>` from known digests, or undefined when that algorithm was not tracked. */
export function knownDigest(known: KnownDigests, algorithm: string): string | undefined {
  const hex = algorithm === 'sha256' ? known.sha256 : algorithm === 'sha512' ? known.sha512 : undefined;
  return hex === undefined ? undefined : `${algorithm}:${hex}`;
}

/** Algorithms a blob read back can be verified in. */
export const VERIFIABLE = new Set(['sha256', 'sha512']);
