// Pull-through: a manifest or blob of a proxy project that storage lacks is fetched from the
// upstream once (fetchOnce), verified against its digest, and stored as ordinary content of the
// project (GC and retention apply as to any other); later pulls are served from storage. A cached tag
// is revalidated with one HEAD after the project's TTL; by digest, never. When the upstream is down
// or rate-limits, the cached copy is served (stale-if-error) and reported.
import { randomUUID } from 'node:crypto';
import { recordBlob } from '../blob-records.ts';
import { RegistryError } from '../errors.ts';
import { digestAlgorithm } from '../grammar.ts';
import { digestOf, MANIFEST_MEDIA_TYPES, manifestRecord, MAX_MANIFEST_BYTES, parseManifest } from '../manifest.ts';
import { DigestMismatchError, UploadSizeError, type BlobRecord, type ManifestRecord } from '../ports.ts';
import type { RegistryDeps } from '../context.ts';
import { fetchOnce } from './lease.ts';
import type { ProxyDeps, ProxyProject } from './deps.ts';
import { upstreamRepository } from './model.ts';
import { UpstreamUnavailableError } from './upstream-client.ts';

type Deps = RegistryDeps & { proxy: ProxyDeps };
type Ref = { tag: string } | { digest: string };

const ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

const badUpstream = (reason: string, detail: Record<string, string>) => new RegistryError('UNAVAILABLE', { ...detail, reason }, { status: 502, message: 'bad answer from the upstream registry' });

/** An upstream that cannot answer, and nothing cached: 503 (or 429 when it rate-limits). */
function unavailable(e: unknown): unknown {
  if (!(e instanceof UpstreamUnavailableError)) return e;
  if (e.status === 429) return new RegistryError('TOOMANYREQUESTS', { reason: 'the upstream registry rate-limits this registry; nothing cached yet' }, { headers: { 'retry-after': '60' } });
  return new RegistryError('UNAVAILABLE', { reason: `the upstream registry cannot be reached (${e.message}) and nothing is cached` });
}

/** The manifest of a proxy project's repository: from storage, else fetched; a stale tag revalidated. */
export async function proxiedManifest(deps: Deps, project: ProxyProject, repository: string, ref: Ref): Promise<ManifestRecord | undefined> {
  const { metadata, proxy } = deps;
  if ('digest' in ref) {
    const lookup = () => metadata.getManifest(repository, ref.digest);
    return (await lookup()) ?? (await fetchOnce(proxy.state, proxy.settings, deps.now, `m:${repository}@${ref.digest}`, lookup, () => fetchManifest(deps, project, repository, ref.digest, [])).catch((e: unknown) => {
      throw unavailable(e);
    }));
  }
  const lookup = () => metadata.getTaggedManifest(repository, ref.tag);
  const cached = await lookup();
  if (!cached) {
    return fetchOnce(proxy.state, proxy.settings, deps.now, `m:${repository}:${ref.tag}`, lookup, () => fetchManifest(deps, project, repository, ref.tag, [ref.tag])).catch((e: unknown) => {
      throw unavailable(e);
    });
  }
  const checked = await proxy.state.tagCheckedAt(repository, ref.tag);
  if (checked !== undefined && deps.now() - checked < project.config.tagTtlSeconds * 1000) return cached;
  return revalidate(deps, project, repository, ref.tag, cached);
}

/**
 * One HEAD upstream for a tag whose check is older than the TTL (Docker Hub does not count HEADs
 * against its pull limit). Only one request revalidates at a time (a lease); the others serve the
 * cached copy meanwhile. The upstream down or rate-limiting: the cached copy, reported.
 */
async function revalidate(deps: Deps, project: ProxyProject, repository: string, tag: string, cached: ManifestRecord): Promise<ManifestRecord> {
  const { proxy } = deps;
  const holder = randomUUID();
  const key = `t:${repository}:${tag}`;
  const t = deps.now();
  if (!(await proxy.state.lease(key, holder, t + proxy.settings.leaseSeconds * 1000, t))) return cached;
  try {
    const res = await project.client.request('HEAD', upstreamRepository(project.config, repository), `manifests/${tag}`, { accept: ACCEPT });
    await res.body?.cancel();
    const digest = res.headers.get('docker-content-digest');
    if (res.ok && digest === cached.digest) {
      await proxy.state.setTagChecked(repository, tag, deps.now());
      proxy.report({ event: 'revalidated', repository, reference: tag });
      return cached;
    }
    if (!res.ok) {
      // Gone or refused upstream: what was cached is still served, and checked again after the TTL.
      proxy.report({ event: 'stale-served', repository, reference: tag, reason: `upstream answered ${res.status} to the revalidation` });
      await proxy.state.setTagChecked(repository, tag, deps.now());
      return cached;
    }
    return (await fetchManifest(deps, project, repository, tag, [tag])) ?? cached;
  } catch (e) {
    if (!(e instanceof UpstreamUnavailableError)) throw e;
    proxy.report({ event: 'stale-served', repository, reference: tag, reason: e.message });
    return cached;
  } finally {
    await proxy.state.release(key, holder).catch(() => undefined);
  }
}

/** GETs the manifest upstream, verifies its digest and stores it (under `tags`). Undefined when the upstream has none. */
async function fetchManifest(deps: Deps, project: ProxyProject, repository: string, reference: string, tags: string[]): Promise<ManifestRecord | undefined> {
  const res = await project.client.request('GET', upstreamRepository(project.config, repository), `manifests/${reference}`, { accept: ACCEPT });
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  const detail = { repository, reference };
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_MANIFEST_BYTES) {
    await res.body?.cancel();
    throw badUpstream(`manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, detail);
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.byteLength > MAX_MANIFEST_BYTES) throw badUpstream(`manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, detail);
  let parsed;
  try {
    parsed = parseManifest(body, res.headers.get('content-type') ?? undefined);
  } catch (e) {
    if (e instanceof RegistryError) throw badUpstream(`the upstream's manifest is not one this registry stores: ${e.message}`, detail);
    throw e;
  }
  const claimed = reference.includes(':') ? reference : res.headers.get('docker-content-digest');
  const digest = digestOf(claimed ? safeAlgorithm(claimed) : 'sha256', body);
  if (claimed && claimed !== digest) throw badUpstream(`the upstream's manifest has digest ${digest}, not ${claimed}`, detail);
  const record = manifestRecord(parsed, body, digest, deps.now());
  await deps.metadata.putManifest(repository, record, tags);
  if (tags.length > 0) await deps.proxy.state.setTagChecked(repository, reference, deps.now());
  deps.proxy.report({ event: 'fetched', repository, reference });
  return record;
}

function safeAlgorithm(digest: string): string {
  try {
    return digestAlgorithm(digest);
  } catch {
    return 'sha256';
  }
}

/** The blob of a proxy project's repository that storage lacks: fetched once, verified, stored, linked. */
export async function proxiedBlob(deps: Deps, project: ProxyProject, repository: string, digest: string): Promise<BlobRecord | undefined> {
  const lookup = () => deps.metadata.getLinkedBlob(repository, digest);
  return fetchOnce(deps.proxy.state, deps.proxy.settings, deps.now, `b:${repository}@${digest}`, lookup, () => fetchBlob(deps, project, repository, digest)).catch((e: unknown) => {
    throw unavailable(e);
  });
}

/**
 * Streams the upstream's bytes into the blob store as an upload (never whole in memory), which
 * verifies them against the digest before they become a blob; nobody is served them before.
 */
async function fetchBlob(deps: Deps, project: ProxyProject, repository: string, digest: string): Promise<BlobRecord | undefined> {
  const res = await project.client.request('GET', upstreamRepository(project.config, repository), `blobs/${digest}`);
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return undefined;
  }
  const header = res.headers.get('content-length');
  const id = randomUUID();
  let state = await deps.blobs.startUpload(id);
  try {
    const appended = await deps.blobs.appendUpload(id, 0, state, res.body, header === null ? undefined : Number(header));
    state = appended.state;
    const { location } = await deps.blobs.finishUpload(id, appended.offset, state, digest);
    const stored = await recordBlob(deps, repository, { digest, size: appended.offset, location, createdAt: deps.now() });
    deps.proxy.report({ event: 'fetched', repository, reference: digest });
    return stored;
  } catch (e) {
    await deps.blobs.abortUpload(id, state).catch(() => undefined);
    if (e instanceof DigestMismatchError) throw badUpstream(`the upstream sent bytes with digest ${e.actual}`, { repository, digest });
    if (e instanceof UploadSizeError) throw badUpstream(`the upstream sent ${e.received} bytes, not the ${header} it announced`, { repository, digest });
    // Not all of it within the time one upstream request may take (in AWS below API Gateway's 29 s).
    if (e instanceof Error && e.name === 'TimeoutError') throw new UpstreamUnavailableError('the upstream did not send the whole blob within the time one upstream request may take');
    // The upstream's body broke off (fetch reports it as a TypeError or an abort).
    if (e instanceof Error && (e.name === 'TypeError' || e.name === 'AbortError')) throw new UpstreamUnavailableError(`upstream body cut short: ${e.message}`);
    throw e;
  }
}
