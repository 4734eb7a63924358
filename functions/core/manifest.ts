// Manifest parsing and validation: OCI image manifest and index, Docker schema 2 manifest and list,
// and artifacts (any config media type, artifactType, the empty descriptor).
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';
import { isValidDigest } from './grammar.ts';
import type { Descriptor, ManifestRecord } from './ports.ts';

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerList];
const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerList]);

/** The empty JSON descriptor `{}` of the image spec; stored on demand, never needs uploading. */
export const EMPTY_BLOB = {
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  bytes: new TextEncoder().encode('{}'),
} as const;

/** Manifests larger than this are refused (the OCI recommendation for registries). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Layers that registries do not hold (foreign / non-distributable with URLs) are not required to exist. */
const NON_DISTRIBUTABLE = /^application\/vnd\.(docker\.image\.rootfs\.foreign\.diff\.tar(\.gzip)?|oci\.image\.layer\.nondistributable\.v1\.tar(\+gzip|\+zstd)?)$/;

export interface ParsedManifest {
  mediaType: string;
  isIndex: boolean;
  /** Blobs that must exist in the repository: config + layers. */
  blobs: Descriptor[];
  /** Child manifests that must exist in the repository. */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

const invalid = (reason: string, extra: Record<string, unknown> = {}): RegistryError =>
  new RegistryError('MANIFEST_INVALID', { reason, ...extra });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) throw invalid(`${field} must be a map of strings`);
  return v as Record<string, string>;
}

function mediaTypeString(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(v)) {
    throw invalid(`${field} must be a media type`);
  }
  return v;
}

export function parseDescriptor(v: unknown, field: string): Descriptor {
  if (!isObject(v)) throw invalid(`${field} must be a descriptor object`);
  const mediaType = mediaTypeString(v.mediaType, `${field}.mediaType`);
  if (typeof v.digest !== 'string' || !isValidDigest(v.digest)) {
    throw invalid(`${field}.digest is not a valid digest`, { digest: String(v.digest).slice(0, 200) });
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`${field}.size must be a non-negative integer`);
  const d: Descriptor = { mediaType, digest: v.digest, size: v.size };
  if (v.artifactType !== undefined) d.artifactType = mediaTypeString(v.artifactType, `${field}.artifactType`);
  const annotations = stringMap(v.annotations, `${field}.annotations`);
  if (annotations) d.annotations = annotations;
  if (v.urls !== undefined) {
    if (!Array.isArray(v.urls) || !v.urls.every((u) => typeof u === 'string')) throw invalid(`${field}.urls must be an array of strings`);
    d.urls = v.urls as string[];
  }
  if (v.platform !== undefined) {
    if (!isObject(v.platform)) throw invalid(`${field}.platform must be an object`);
    d.platform = v.platform;
  }
  return d;
}

function descriptorList(v: unknown, field: string): Descriptor[] {
  if (!Array.isArray(v)) throw invalid(`${field} must be an array`);
  return v.map((d, i) => parseDescriptor(d, `${field}[${i}]`));
}

/**
 * Parses and validates a manifest body. `contentType` is the request's Content-Type (may be absent);
 * the effective media type must be one this registry stores.
 */
export function parseManifest(body: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw invalid('body is not valid UTF-8 JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const declared = doc.mediaType === undefined ? undefined : mediaTypeString(doc.mediaType, 'mediaType');
  // Like distribution, a generic `application/json` defers to the body's mediaType.
  let requested = contentType === undefined ? undefined : contentType.split(';')[0]?.trim().toLowerCase();
  if (requested === 'application/json') requested = undefined;
  if (requested !== undefined && !MANIFEST_MEDIA_TYPES.includes(requested)) {
    throw invalid('unsupported manifest media type in Content-Type', { contentType: contentType?.slice(0, 200), supported: MANIFEST_MEDIA_TYPES });
  }
  if (requested && declared && requested !== declared) {
    throw invalid('mediaType in the manifest does not match Content-Type', { contentType: requested, mediaType: declared });
  }
  const mediaType = requested ?? declared;
  if (!mediaType || !MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalid('unsupported manifest media type', { mediaType: mediaType ?? null, supported: MANIFEST_MEDIA_TYPES });
  }
  const annotations = stringMap(doc.annotations, 'annotations');
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject');
  let artifactType = doc.artifactType === undefined ? undefined : mediaTypeString(doc.artifactType, 'artifactType');
  const isIndex = INDEX_TYPES.has(mediaType);
  let blobs: Descriptor[] = [];
  let manifests: Descriptor[] = [];
  if (isIndex) {
    if (doc.config !== undefined || doc.layers !== undefined) throw invalid('an index has no config or layers');
    manifests = descriptorList(doc.manifests, 'manifests');
  } else {
    if (doc.manifests !== undefined) throw invalid('an image manifest has no manifests list');
    const config = parseDescriptor(doc.config, 'config');
    const layers = descriptorList(doc.layers, 'layers');
    if (mediaType === MediaTypes.dockerManifest && (artifactType !== undefined || subject !== undefined)) {
      throw invalid('Docker schema 2 manifests have no artifactType or subject');
    }
    artifactType ??= mediaType === MediaTypes.ociManifest ? config.mediaType : undefined;
    blobs = [config, ...layers.filter((l) => !(NON_DISTRIBUTABLE.test(l.mediaType) && l.urls && l.urls.length > 0))];
  }
  const parsed: ParsedManifest = { mediaType, isIndex, blobs, manifests };
  if (subject) parsed.subject = subject;
  if (artifactType) parsed.artifactType = artifactType;
  if (annotations) parsed.annotations = annotations;
  return parsed;
}

export function digestOf(algorithm: string, bytes: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Whether a manifest of `mediaType` may be served to a client that sent `accept` (RFC 9110 §12.5.1:
 * the most specific matching range decides, and q=0 means "not acceptable").
 */
export function acceptable(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const entries = accept
    .split(',')
    .map((part) => {
      const [range = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)).find((m) => m !== null);
      return { range: range.trim().toLowerCase(), q: q ? Number(q[1]) : 1 };
    })
    .filter((e) => e.range !== '');
  if (entries.length === 0) return true;
  const type = mediaType.split('/')[0];
  const specificity = (range: string) => (range === mediaType ? 3 : range === `${type}/*` ? 2 : range === '*/*' ? 1 : 0);
  let best: { rank: number; q: number } | undefined;
  for (const e of entries) {
    const rank = specificity(e.range);
    if (rank > 0 && (!best || rank > best.rank)) best = { rank, q: e.q };
  }
  return best !== undefined && best.q > 0;
}

/** The record a parsed manifest is stored as (a PUT, or a pull-through fetch). */
export function manifestRecord(parsed: ParsedManifest, body: Uint8Array, digest: string, createdAt: number): ManifestRecord {
  const record: ManifestRecord = {
    digest,
    mediaType: parsed.mediaType,
    size: body.byteLength,
    body,
    blobs: parsed.blobs.map((d) => d.digest),
    manifests: parsed.manifests.map((d) => d.digest),
    createdAt,
  };
  if (parsed.subject) record.subject = parsed.subject.digest;
  if (parsed.artifactType) record.artifactType = parsed.artifactType;
  if (parsed.annotations) record.annotations = parsed.annotations;
  return record;
}
