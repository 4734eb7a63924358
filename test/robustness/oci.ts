// OCI media types and the image manifest shape shared by the robustness tests.
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, type Descriptor as OciDescriptor } from '../support/oci.ts';

export { DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from '../support/oci.ts';

export type Descriptor = Pick<OciDescriptor, 'digest' | 'size'>;

/** An OCI image manifest object (key order fixed, so equal inputs serialize to equal bytes). */
export function imageManifest(config: Descriptor, layers: readonly Descriptor[], annotations?: Record<string, string>): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
    ...(annotations ? { annotations } : {}),
  };
}
