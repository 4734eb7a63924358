// Shared fixtures for the manifest unit tests (functions/core/manifest.ts): media types, descriptor
// and document builders for the four manifest types, and an assertion for refused documents.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RegistryError } from '../../functions/core/errors.ts';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST, DOCKER_MANIFEST, EMPTY_DIGEST, EMPTY_MEDIA_TYPE as EMPTY_TYPE, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP as OCI_LAYER, OCI_MANIFEST } from '../support/oci.ts';

export { DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1, EMPTY_DIGEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../support/oci.ts';
export { EMPTY_TYPE, OCI_LAYER };

export const sha256 = (s: string | Uint8Array): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
export const sha512 = (s: string | Uint8Array): string => `sha512:${createHash('sha512').update(s).digest('hex')}`;
export const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

export const d = (mediaType: string, seed: string, size = 10, extra: Record<string, unknown> = {}) => ({ mediaType, digest: sha256(seed), size, ...extra });
export const emptyDescriptor = { mediaType: EMPTY_TYPE, digest: EMPTY_DIGEST, size: 2 };

export function ociManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: d(OCI_CONFIG, 'config', 100),
    layers: [d(OCI_LAYER, 'layer1', 1000), d(OCI_LAYER, 'layer2', 2000)],
    ...extra,
  };
}

export function ociIndex(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      d(OCI_MANIFEST, 'amd64', 500, { platform: { os: 'linux', architecture: 'amd64' } }),
      d(OCI_MANIFEST, 'arm64', 501, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ],
    ...extra,
  };
}

export function dockerManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: d(DOCKER_CONFIG, 'dconfig', 1500),
    layers: [d(DOCKER_LAYER, 'dlayer', 3000)],
    ...extra,
  };
}

export function dockerList(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: DOCKER_LIST,
    manifests: [d(DOCKER_MANIFEST, 'damd64', 700, { platform: { os: 'linux', architecture: 'amd64' } })],
    ...extra,
  };
}

/** Asserts a 400-class RegistryError with one of `codes`. */
export function assertRejected(fn: () => unknown, codes: string[] = ['MANIFEST_INVALID'], status = 400): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RegistryError, `expected a RegistryError, got ${String(e)}`);
    assert.ok(codes.includes(e.code), `expected one of ${codes.join(', ')}, got ${e.code}`);
    assert.equal(e.status, status);
    return true;
  });
}
