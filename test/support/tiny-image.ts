// The smallest real image push: the empty config and one random layer, each a monolithic POST
// upload, then an OCI image manifest PUT under a tag. For tests and benches that need a pushed image
// on a registry with auth headers, not a client.
import { createHash, randomBytes } from 'node:crypto';
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from './oci.ts';

export interface TinyImage {
  manifest: string;
  digest: string;
  layer: Uint8Array;
  layerDigest: string;
}

const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A manifest over the empty config and `layer` (not pushed). */
export function tinyImage(layer: Uint8Array = randomBytes(2048)): TinyImage {
  const layerDigest = sha256(layer);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_DESCRIPTOR, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }] });
  return { manifest, digest: sha256(manifest), layerDigest, layer };
}

/** Pushes the blobs and the manifest of `image` (default: a new one) as `repo:tag`; the manifest PUT's response. */
export async function pushTinyImage(base: string, repo: string, tag: string, auth: Record<string, string> = {}, image = tinyImage()): Promise<{ image: TinyImage; put: Response }> {
  for (const [bytes, d] of [[Buffer.from('{}'), EMPTY_DESCRIPTOR.digest], [image.layer, image.layerDigest]] as const) {
    const r = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${d}`, { method: 'POST', body: bytes, headers: { ...auth, 'content-type': 'application/octet-stream' } });
    if (r.status !== 201) throw new Error(`blob upload answered ${r.status}: ${await r.text()}`);
  }
  const put = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: image.manifest, headers: { ...auth, 'content-type': OCI_MANIFEST } });
  return { image, put };
}
