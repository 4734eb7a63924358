// GET / HEAD / PUT / DELETE /v2/<name>/manifests/<reference>
import { repositoryPaths } from '../shared-cache.ts';
import { repoAccess } from '../access.ts';
import { RegistryError } from '../errors.ts';
import { recordBlob, recordFoundUpload, type EdgeUpload } from '../blob-records.ts';
import { digestAlgorithm, isDigestLike, isValidTag, parseReference } from '../grammar.ts';
import { emptyResponse, header, type RegistryResponse } from '../http.ts';
import { acceptable, digestOf, EMPTY_BLOB, MANIFEST_MEDIA_TYPES, manifestRecord, MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from '../manifest.ts';
import { readLimited } from '../read-body.ts';
import { notePull } from '../pulls.ts';
import { TagImmutableError, type Descriptor, type ManifestHead, type ManifestPutIntent, type ManifestRecord, type PutManifestResult, type References } from '../ports.ts';
import type { AuditEntry, NewAuditEntry } from '../audit.ts';
import { describeRule, immutableBy } from '../tag-immutability.ts';
import { limitOf } from '../quota.ts';
import type { TagRule } from '../auth/model.ts';
import type { HandlerContext, Operation, RegistryDeps } from '../context.ts';
import { proxiedManifest } from '../proxy/pull-through.ts';

/**
 * The reference of a GET or HEAD: a manifest that cannot exist (neither a valid tag nor a valid
 * digest) is simply not found, which the spec says MUST be 404 MANIFEST_UNKNOWN.
 */
function readReference(reference: string): { tag: string } | { digest: string } {
  try {
    const ref = parseReference(reference);
    return ref.kind === 'digest' ? { digest: ref.digest } : { tag: ref.tag };
  } catch (e) {
    if (e instanceof RegistryError) throw new RegistryError('MANIFEST_UNKNOWN', { reference: reference.slice(0, 300), reason: 'not a valid tag or digest' });
    throw e;
  }
}

function checkAccept(req: HandlerContext['req'], reference: string, m: ManifestHead): void {
  if (!acceptable(header(req, 'accept'), m.mediaType)) {
    throw new RegistryError('MANIFEST_UNKNOWN', {
      reference,
      reason: `the manifest is ${m.mediaType}, which the Accept header does not allow`,
      mediaType: m.mediaType,
    });
  }
}

function manifestHeaders(m: ManifestHead): Record<string, string> {
  return { 'content-type': m.mediaType, 'content-length': String(m.size), 'docker-content-digest': m.digest, etag: `"${m.digest}"` };
}

export const headManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  cache: (p) => (isDigestLike(p.reference) ? 'content' : 'moving'),
  async handle({ params, deps, req }) {
    const ref = readReference(params.reference);
    const proxied = deps.proxy && (await deps.proxy.projectOf(params.name));
    const m = proxied ? await proxiedManifest({ ...deps, proxy: deps.proxy! }, proxied, params.name, ref) : await deps.metadata.headManifest(params.name, ref);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', { reference: params.reference });
    checkAccept(req, params.reference, m);
    if ('tag' in ref && deps.settings.recordPulls) await notePull(deps.metadata, params.name, ref.tag, m, deps.now());
    return { status: 200, headers: manifestHeaders(m) };
  },
};

export const getManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  cache: (p) => (isDigestLike(p.reference) ? 'content' : 'moving'),
  async handle({ params, deps, req }) {
    const ref = readReference(params.reference);
    const proxied = deps.proxy && (await deps.proxy.projectOf(params.name));
    const m = proxied ? await proxiedManifest({ ...deps, proxy: deps.proxy! }, proxied, params.name, ref) : 'digest' in ref ? await deps.metadata.getManifest(params.name, ref.digest) : await deps.metadata.getTaggedManifest(params.name, ref.tag);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', { reference: params.reference });
    checkAccept(req, params.reference, m);
    if ('tag' in ref && deps.settings.recordPulls) await notePull(deps.metadata, params.name, ref.tag, m, deps.now());
    return { status: 200, headers: manifestHeaders(m), body: m.body };
  },
};

/** Digests per batch read (DynamoDB's BatchGetItem takes 100 keys; each digest may be a blob and a manifest). */
const REFERENCE_BATCH = 50;
/** The first batch also carries the put's own keys (the manifest, up to 10 tags, the catalog entry). */
const FIRST_REFERENCE_BATCH = 44;

/**
 * Checks that every blob and child manifest the manifest references is in the repository, with one
 * batch read per 50 digests; the first batch also reads what the put itself needs (`intent`), so a
 * small manifest PUT costs one batch read and one transaction. An index entry whose media type is
 * not a manifest type may also name a blob of the repository: BuildKit's registry cache is an index
 * of layer blobs and a cache-config blob, which distribution accepts too. Returns the store's
 * prepared state for putManifest.
 */
async function checkReferences(deps: RegistryDeps, repo: string, parsed: ParsedManifest, intent: ManifestPutIntent): Promise<unknown> {
  const digests = [...new Set([...parsed.blobs, ...parsed.manifests].map((d) => d.digest))];
  const found: References = { blobs: new Map(), manifests: new Map() };
  let prepared: unknown;
  for (let i = 0; i === 0 || i < digests.length; ) {
    const size = i === 0 ? FIRST_REFERENCE_BATCH : REFERENCE_BATCH;
    const part = await deps.metadata.getReferences(repo, digests.slice(i, i + size), ...(i === 0 ? [intent] : []));
    if (i === 0) prepared = part.prepared;
    for (const [k, v] of part.blobs) found.blobs.set(k, v);
    for (const [k, v] of part.manifests) found.manifests.set(k, v);
    for (const d of part.marked ?? []) await revive(deps, repo, d, found);
    i += size;
  }
  await reconcileEdgeUploads(deps, repo, parsed, found);
  const missing: string[] = [];
  const check = async (d: Descriptor, kind: 'blob' | 'manifest') => {
    if (kind === 'blob' && d.digest === EMPTY_BLOB.digest && d.size === EMPTY_BLOB.size && !found.blobs.has(d.digest)) return ensureEmptyBlob(deps, repo);
    const hit =
      kind === 'blob'
        ? found.blobs.get(d.digest)
        : (found.manifests.get(d.digest) ?? (MANIFEST_MEDIA_TYPES.includes(d.mediaType) ? undefined : found.blobs.get(d.digest)));
    if (!hit) missing.push(d.digest);
    else if (hit.size !== d.size) {
      throw new RegistryError('MANIFEST_INVALID', { reason: `descriptor size does not match the stored ${kind}`, digest: d.digest, size: d.size, actual: hit.size });
    }
  };
  for (const d of parsed.blobs) await check(d, 'blob');
  for (const d of parsed.manifests) await check(d, 'manifest');
  if (missing.length > 0) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: missing[0], missing });
  return prepared;
}

/**
 * A referenced link or child manifest that a GC run has condemned (marked) is needed again: its mark
 * is removed before the manifest is stored, so the run's later conditional delete fails. One that is
 * gone meanwhile (the run deleted it first) counts as missing: the client uploads it again.
 */
async function revive(deps: RegistryDeps, repo: string, digest: string, found: References): Promise<void> {
  if (found.blobs.has(digest) && !(await deps.metadata.gcUnmark({ kind: 'link', repo, digest }))) found.blobs.delete(digest);
  if (found.manifests.has(digest) && !(await deps.metadata.gcUnmark({ kind: 'manifest', repo, digest }))) found.manifests.delete(digest);
}

/** Edge uploads looked up (and recorded) at once by one manifest PUT. */
const EDGE_LOOKUP_CONCURRENCY = 8;

/** Runs `work` on every item, `EDGE_LOOKUP_CONCURRENCY` at a time. */
async function eachInGroups<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += EDGE_LOOKUP_CONCURRENCY) await Promise.all(items.slice(i, i + EDGE_LOOKUP_CONCURRENCY).map(work));
}

/**
 * A blob the edge PUT straight into storage is recorded by its storage event, which may arrive after
 * the manifest that references it (clients PUT the manifest right after the blob's 201; S3 sends its
 * notifications ~1 s later or more). For each referenced blob not linked into `repo`, asks the blob
 * store for `repo`'s own edge upload of it and records what it finds (recordFoundUpload; whoever ends
 * the upload's session records it, so the late event then writes nothing). Another repository's
 * upload of the digest is never found here. With a store that prepares recordings, one batch read
 * first: the links written meanwhile (by the events), and the blob records and catalog entry the
 * recordings need (a blob pushed before by another repository is then recorded in one transaction,
 * not in a refused one and another). The first recording goes alone: it registers a new repository
 * for the others.
 */
async function reconcileEdgeUploads(deps: RegistryDeps, repo: string, parsed: ParsedManifest, found: References): Promise<void> {
  const blobs = deps.blobs;
  if (!blobs.findRepoUpload) return;
  const candidates = new Set<string>();
  for (const d of parsed.blobs) if (!found.blobs.has(d.digest) && d.digest !== EMPTY_BLOB.digest) candidates.add(d.digest);
  for (const d of parsed.manifests) {
    if (!MANIFEST_MEDIA_TYPES.includes(d.mediaType) && !found.manifests.has(d.digest) && !found.blobs.has(d.digest)) candidates.add(d.digest);
  }
  const uploads = new Map<string, EdgeUpload>();
  const unresolved: string[] = [];
  await eachInGroups([...candidates], async (digest) => {
    const upload = await blobs.findRepoUpload!(repo, digest);
    if (upload) uploads.set(digest, upload);
    else unresolved.push(digest);
  });
  if (uploads.size > 0 && deps.metadata.prepareUploads) {
    for (const [digest, linked] of await deps.metadata.prepareUploads(repo, [...uploads.keys()])) {
      found.blobs.set(digest, linked);
      uploads.delete(digest);
    }
  }
  const record = async ([digest, upload]: [string, EdgeUpload]): Promise<void> => {
    const recorded = await recordFoundUpload(deps, repo, digest, upload);
    if (recorded) found.blobs.set(digest, recorded);
    else unresolved.push(digest);
  };
  const [first, ...rest] = uploads;
  if (first) await record(first);
  await eachInGroups(rest, record);
  // Recorded by someone else meanwhile: the event may have recorded the blob between the link read
  // and the lookup (it links before it deletes a duplicate copy, so a link absent before and a copy
  // absent now means the link is there), or ended the session in the write that linked it.
  for (let i = 0; i < unresolved.length; i += REFERENCE_BATCH) {
    const again = await deps.metadata.getReferences(repo, unresolved.slice(i, i + REFERENCE_BATCH));
    for (const [k, v] of again.blobs) found.blobs.set(k, v);
  }
}

/** The empty descriptor never needs uploading: the registry stores and links `{}` itself. */
async function ensureEmptyBlob(deps: RegistryDeps, repo: string): Promise<void> {
  const existing = await deps.metadata.getBlob(EMPTY_BLOB.digest);
  // Recorded again (putBlob), not only linked: that revives a record a GC run may have condemned.
  if (existing) return deps.metadata.linkBlob(repo, await deps.metadata.putBlob({ ...existing, createdAt: deps.now() }), await limitOf(deps, repo));
  const location = await deps.blobs.putBlob(EMPTY_BLOB.digest, EMPTY_BLOB.bytes);
  await recordBlob(deps, repo, { digest: EMPTY_BLOB.digest, size: EMPTY_BLOB.size, location, createdAt: deps.now() });
}

/** Most tags one manifest PUT may set (`?tag=` parameters; the transaction stays small). */
const MAX_TAGS_PER_PUT = 10;

/** The tags a PUT sets: the reference when it is a tag, else every `tag` query parameter. */
function tagsOf(ref: ReturnType<typeof parseReference>, query: URLSearchParams): string[] {
  if (ref.kind === 'tag') return [ref.tag];
  const tags = [...new Set(query.getAll('tag'))];
  if (tags.length > MAX_TAGS_PER_PUT) throw new RegistryError('MANIFEST_INVALID', { reason: `at most ${MAX_TAGS_PER_PUT} tag parameters per request` });
  for (const tag of tags) {
    if (!isValidTag(tag)) throw new RegistryError('TAG_INVALID', { tag: tag.slice(0, 300) }, { message: 'invalid tag' });
  }
  return tags;
}

/** putManifest with the repository's immutable tags held still: 403 DENIED, naming the rule, if one would move. */
async function putWithRules(deps: RegistryDeps, repo: string, record: ManifestRecord, tags: string[], prepared: unknown, audit: AuditEntry | undefined): Promise<PutManifestResult> {
  const rules = tags.length > 0 && deps.tagRules ? await deps.tagRules(repo) : [];
  const frozen = new Map<string, TagRule>();
  for (const tag of tags) {
    const rule = immutableBy(rules, repo, tag);
    if (rule) frozen.set(tag, rule);
  }
  try {
    return await deps.metadata.putManifest(repo, record, tags, prepared, { ...(frozen.size > 0 ? { immutable: new Set(frozen.keys()) } : {}), ...(audit ? { audit } : {}) });
  } catch (e) {
    if (!(e instanceof TagImmutableError)) throw e;
    const rule = describeRule(frozen.get(e.tag)!);
    throw new RegistryError('DENIED', { tag: e.tag, current: e.current, rule }, { message: `tag ${e.tag} is immutable (rule ${rule}): it points at ${e.current}; push under a new tag` });
  }
}

/** The audit entry of a manifest PUT of `digest` (the other requests' entries: audit-events.ts). */
function pushEntry({ params, req, principal }: Pick<HandlerContext, 'params' | 'req' | 'principal'>, digest: string): NewAuditEntry {
  const tags = req.query.getAll('tag');
  return {
    actor: principal.subject, address: req.clientAddress ?? '', repository: params.name, action: 'push', target: params.reference,
    detail: { digest, ...(tags.length > 0 ? { tags: tags.join(',') } : {}) },
  };
}

export const putManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'pull', 'push')],
  async handle({ params, deps, req, principal }): Promise<RegistryResponse> {
    const ref = parseReference(params.reference);
    const tags = tagsOf(ref, req.query);
    const body = await readLimited(req.body, MAX_MANIFEST_BYTES, header(req, 'content-length'));
    if (body === undefined) {
      throw new RegistryError('MANIFEST_INVALID', { reason: `manifest exceeds ${MAX_MANIFEST_BYTES} bytes` }, { status: 413 });
    }
    const parsed = parseManifest(body, header(req, 'content-type'));
    const digest = digestOf(ref.kind === 'digest' ? digestAlgorithm(ref.digest) : 'sha256', body);
    if (ref.kind === 'digest' && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', { digest: ref.digest, actual: digest });
    const prepared = await checkReferences(deps, params.name, parsed, { digest, tags });
    const record = manifestRecord(parsed, body, digest, deps.now());
    // The push's audit entry goes into the manifest's own write where the store can (one request less).
    const entry = deps.audit?.prepare(pushEntry({ params, req, principal }, digest));
    const { audited } = await putWithRules(deps, params.name, record, tags, prepared, entry);
    if (entry) await deps.audit!.settle(entry, audited);
    const headers: Record<string, string> = { location: `/v2/${params.name}/manifests/${digest}`, 'docker-content-digest': digest };
    if (ref.kind === 'digest' && tags.length > 0) headers['oci-tag'] = tags.join(', ');
    if (parsed.subject) headers['oci-subject'] = parsed.subject.digest;
    return emptyResponse(201, headers);
  },
};

export const deleteManifest: Operation = {
  access: (p) => [repoAccess(p.name, 'delete')],
  async handle({ params, deps, req }) {
    const ref = parseReference(params.reference);
    const deleted = ref.kind === 'digest' ? await deps.metadata.deleteManifest(params.name, ref.digest) : await deps.metadata.deleteTag(params.name, ref.tag);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', { reference: params.reference });
    await deps.sharedCache?.purge(req, repositoryPaths(params.name)).catch(() => undefined);
    return emptyResponse(202);
  },
};
