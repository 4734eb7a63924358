// Where the CloudFront edge writes a monolithic upload in S3: `blobs/r/<repo>/<alg>/<hex>`. The key
// names the repository whose upload token wrote it and the digest S3 verified (the edge sets
// x-amz-checksum-sha256 from it), so a blob found there belongs to that repository alone.
import { isValidDigest, isValidName } from '../../core/grammar.ts';

export const EDGE_UPLOAD_PREFIX = 'blobs/r/';

/** Digest algorithms storage verifies on an edge PUT (S3's full-object checksums include SHA-256, not SHA-512). */
export const EDGE_VERIFIED_ALGORITHMS: readonly string[] = ['sha256'];

/** The object key of `repo`'s edge upload of `digest`. */
export function edgeUploadKey(repo: string, digest: string): string {
  const i = digest.indexOf(':');
  return `${EDGE_UPLOAD_PREFIX}${repo}/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

/**
 * The repository and digest of an edge upload's object key, or undefined for any other key (other
 * prefixes, an invalid repository name or digest, an algorithm storage does not verify).
 */
export function parseEdgeUploadKey(key: string): { repo: string; digest: string } | undefined {
  if (!key.startsWith(EDGE_UPLOAD_PREFIX)) return undefined;
  const rest = key.slice(EDGE_UPLOAD_PREFIX.length);
  const hexAt = rest.lastIndexOf('/');
  const algAt = rest.lastIndexOf('/', hexAt - 1);
  if (algAt <= 0) return undefined;
  const repo = rest.slice(0, algAt);
  const alg = rest.slice(algAt + 1, hexAt);
  const digest = `${alg}:${rest.slice(hexAt + 1)}`;
  if (!EDGE_VERIFIED_ALGORITHMS.includes(alg) || !isValidName(repo) || !isValidDigest(digest)) return undefined;
  return { repo, digest };
}
