// GET / HEAD / PUT / DELETE /v2/<name>/manifests/<reference>
import { repoAccess } from '../access.ts';
import { RegistryError } from '../errors.ts';
import { digestAlgorithm, parseReference } from '../grammar.ts';
import { emptyResponse, header, type RegistryResponse } from '../http.ts';
import { acceptable, digestOf, EMPTY_BLOB, MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from '../manifest.ts';
import { readLimited } from '../read-body.ts';
import type { Descriptor, ManifestRecord } from '../ports.ts';
import type { HandlerContext, Operation, RegistryDeps } from '../context.ts';

async function findManifest({ params, deps, req }: HandlerContext): Promise<ManifestRecord> {
  const ref = parseReference(params.reference);
  const manifest =
    ref.kind === 'digest' ? await deps.metadata.getManifest(params.name, ref.digest) : await deps.metadata.getTaggedManifest(params.name, ref.tag);
  if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', { reference: params.reference });
  if (!acceptable(header(req, 'accept'), manifest.mediaType)) {
    throw new RegistryError('MANIFEST_UNKNOWN', {
      reference: params.reference,
      reason: `the manifest is ${manifest.mediaType}, which the Accept header does not allow`,
      mediaType: manifest.mediaType,
    });
  }
  return manifest;
}

function manifestHeaders(m: ManifestRecord): Record<string, string> {
  return { 'content-type': m.mediaType, 'content-length': String(m.size), 'docker-content-digest': m.digest, etag: `"${m.digest}"` };
}

export const headManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  async handle(ctx) {
    return { status: 200, headers: manifestHeaders(await findManifest(ctx)) };
  },
};

export const getManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  async handle(ctx) {
    const m = await findManifest(ctx);
    return { status: 200, headers: manifestHeaders(m), body: m.body };
  },
};

/**
 * Checks that every blob and child manifest the manifest references is in the repository. An index
 * entry whose media type is not a manifest type may also name a blob of the repository: BuildKit's
 * registry cache is an index of layer blobs and a cache-config blob, which distribution accepts too.
 */
async function checkReferences(deps: RegistryDeps, repo: string, parsed: ParsedManifest): Promise<void> {
  const missing: string[] = [];
  const check = async (d: Descriptor, kind: 'blob' | 'manifest') => {
    if (kind === 'blob' && d.digest === EMPTY_BLOB.digest && d.size === EMPTY_BLOB.size) return ensureEmptyBlob(deps, repo);
    const found =
      kind === 'blob'
        ? await deps.metadata.getLinkedBlob(repo, d.digest)
        : ((await deps.metadata.getManifest(repo, d.digest)) ??
          (MANIFEST_MEDIA_TYPES.includes(d.mediaType) ? undefined : await deps.metadata.getLinkedBlob(repo, d.digest)));
    if (!found) missing.push(d.digest);
    else if (found.size !== d.size) {
      throw new RegistryError('MANIFEST_INVALID', { reason: `descriptor size does not match the stored ${kind}`, digest: d.digest, size: d.size, actual: found.size });
    }
  };
  await Promise.all([...parsed.blobs.map((d) => check(d, 'blob')), ...parsed.manifests.map((d) => check(d, 'manifest'))]);
  if (missing.length > 0) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: missing[0], missing });
}

/** The empty descriptor never needs uploading: the registry stores and links `{}` itself. */
async function ensureEmptyBlob(deps: RegistryDeps, repo: string): Promise<void> {
  if (await deps.metadata.getLinkedBlob(repo, EMPTY_BLOB.digest)) return;
  if (!(await deps.metadata.getBlob(EMPTY_BLOB.digest))) {
    await deps.blobs.putBlob(EMPTY_BLOB.digest, EMPTY_BLOB.bytes);
    await deps.metadata.putBlob({ digest: EMPTY_BLOB.digest, size: EMPTY_BLOB.size, createdAt: deps.now() });
  }
  await deps.metadata.linkBlob(repo, EMPTY_BLOB.digest, EMPTY_BLOB.size);
}

export const putManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ params, deps, req }): Promise<RegistryResponse> {
    const ref = parseReference(params.reference);
    const body = await readLimited(req.body, MAX_MANIFEST_BYTES, header(req, 'content-length'));
    if (body === undefined) {
      throw new RegistryError('MANIFEST_INVALID', { reason: `manifest exceeds ${MAX_MANIFEST_BYTES} bytes` }, { status: 413 });
    }
    const parsed = parseManifest(body, header(req, 'content-type'));
    const digest = digestOf(ref.kind === 'digest' ? digestAlgorithm(ref.digest) : 'sha256', body);
    if (ref.kind === 'digest' && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', { digest: ref.digest, actual: digest });
    await checkReferences(deps, params.name, parsed);
    const record: ManifestRecord = {
      digest,
      mediaType: parsed.mediaType,
      size: body.byteLength,
      body,
      blobs: parsed.blobs.map((d) => d.digest),
      manifests: parsed.manifests.map((d) => d.digest),
      createdAt: deps.now(),
    };
    if (parsed.subject) record.subject = parsed.subject.digest;
    if (parsed.artifactType) record.artifactType = parsed.artifactType;
    if (parsed.annotations) record.annotations = parsed.annotations;
    await deps.metadata.putManifest(params.name, record, ref.kind === 'tag' ? ref.tag : undefined);
    const headers: Record<string, string> = { location: `/v2/${params.name}/manifests/${digest}`, 'docker-content-digest': digest };
    if (parsed.subject) headers['oci-subject'] = parsed.subject.digest;
    return emptyResponse(201, headers);
  },
};

export const deleteManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'delete')],
  async handle({ params, deps }) {
    const ref = parseReference(params.reference);
    const deleted = ref.kind === 'digest' ? await deps.metadata.deleteManifest(params.name, ref.digest) : await deps.metadata.deleteTag(params.name, ref.tag);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', { reference: params.reference });
    return emptyResponse(202);
  },
};
