// The fixtures every case works against: blobs and a manifest pushed to the test repositories before
// the run, the signed blob URL, and small generators for digests, UUIDs and raw UTF-8.
import { describeRequest, describeResult, headerValue, locationPath, prng, send, sha256, withQuery, type HttpResult, type RequestSpec, type Rng } from '../lib.ts';
import { imageManifest, OCI_MANIFEST } from '../oci.ts';
import { FUZZ, MF, OTHER, REPO, SEED } from './config.ts';

export interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export interface Ctx {
  base: URL;
  config: Blob;
  layer: Blob;
  otherBlob: Blob;
  manifest: Blob;
  /** Path + query of the signed URL a blob GET of `layer` in REPO redirects to. */
  signedPath: string;
}

/** `bad-*` tags whose PUT was (wrongly) accepted: already reported as a status mismatch. */
export const acceptedBadTags = new Set<string>();

const blobOf = (bytes: Buffer): Blob => ({ bytes, digest: sha256(bytes), size: bytes.length });
export const rawUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
export const hex64 = (rng: Rng): string => rng.bytes(32).toString('hex');
export const someDigest = (rng: Rng): string => `sha256:${hex64(rng)}`;
export const uuidOf = (rng: Rng): string => {
  const x = rng.bytes(16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-a${x.slice(17, 20)}-${x.slice(20, 32)}`;
};

/** The image manifest of the fixture config and layer. */
export const manifestObject = (c: { config: Blob; layer: Blob }): Record<string, unknown> => imageManifest(c.config, [c.layer]);

async function must(base: URL, spec: RequestSpec, status: number): Promise<HttpResult> {
  const res = await send(base, spec, { timeoutMs: 15_000 });
  if (res.status !== status) throw new Error(`setup: ${describeRequest(spec)} -> expected ${status}, got ${describeResult(res)}`);
  return res;
}

async function pushBlob(base: URL, repo: string, blob: Blob): Promise<void> {
  const post = await must(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/` }, 202);
  const loc = locationPath(base, headerValue(post, 'location'));
  await must(base, { method: 'PUT', path: withQuery(loc, `digest=${blob.digest}`), body: blob.bytes, headers: { 'content-type': 'application/octet-stream' } }, 201);
}

export async function setup(base: URL): Promise<Ctx> {
  const rng = prng(SEED ^ 0x5eed);
  const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = blobOf(rng.bytes(4096));
  const otherBlob = blobOf(rng.bytes(777));
  const manifest = blobOf(Buffer.from(JSON.stringify(manifestObject({ config, layer }))));
  for (const repo of [REPO, MF, FUZZ]) {
    await pushBlob(base, repo, config);
    await pushBlob(base, repo, layer);
    await must(base, { method: 'PUT', path: `/v2/${repo}/manifests/good`, headers: { 'content-type': OCI_MANIFEST }, body: manifest.bytes }, 201);
  }
  await pushBlob(base, OTHER, otherBlob);
  const redirect = await must(base, { method: 'GET', path: `/v2/${REPO}/blobs/${layer.digest}` }, 307);
  const signedPath = locationPath(base, headerValue(redirect, 'location'));
  const got = await must(base, { method: 'GET', path: signedPath }, 200);
  if (!got.body.equals(layer.bytes)) throw new Error('setup: signed blob URL returned different bytes');
  return { base, config, layer, otherBlob, manifest, signedPath };
}
