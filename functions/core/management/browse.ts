// Browsing what the caller may pull: a project's repositories, a repository's tags (with what each
// points at), and one artifact (media type, size, config and layers, the platforms of an index,
// annotations, subject and referrers such as signatures and SBOMs).
import { jsonResponse } from '../http.ts';
import { parseReference } from '../grammar.ts';
import type { MetadataStore, ManifestRecord, Page } from '../ports.ts';
import type { Endpoint } from './router.ts';
import { invalid, listResponse, notFound, pageParams } from './io.ts';
import { repositorySummaries } from './repository-summaries.ts';

/** Repositories of project `p` (named `p` or `p/...`), in name order, strictly after `last`. */
async function projectRepositories(meta: MetadataStore, p: string, n: number, last: string | undefined): Promise<Page<string>> {
  const prefix = `${p}/`;
  const items: string[] = [];
  if (last === undefined && (await meta.repositoryExists(p))) items.push(p);
  // Names between `p` and `p/` (`p-x`, `p.x`) are other projects': start after `p/`.
  const cursor = last === undefined || last < prefix ? prefix : last;
  const want = Math.max(1, n - items.length);
  const page = await meta.listRepositories(want, cursor);
  const inside = page.items.filter((r) => r.startsWith(prefix));
  const room = n - items.length;
  items.push(...inside.slice(0, room));
  const more = inside.length > room || (inside.length === page.items.length && page.more);
  return { items, more };
}

interface Parsed {
  mediaType?: string;
  artifactType?: string;
  config?: { mediaType?: string; digest?: string; size?: number };
  layers?: { mediaType?: string; digest?: string; size?: number; annotations?: Record<string, string> }[];
  manifests?: { mediaType?: string; digest?: string; size?: number; platform?: Record<string, unknown>; artifactType?: string; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
  subject?: { digest?: string };
}

function details(m: ManifestRecord) {
  let parsed: Parsed = {};
  try {
    parsed = JSON.parse(Buffer.from(m.body).toString('utf8')) as Parsed;
  } catch {
    // Stored manifests were validated on PUT; an unparsable one is shown without its parts.
  }
  const isIndex = Array.isArray(parsed.manifests);
  return {
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
    created: new Date(m.createdAt).toISOString(),
    artifactType: m.artifactType ?? null,
    subject: m.subject ?? null,
    annotations: parsed.annotations ?? {},
    ...(isIndex
      ? { manifests: parsed.manifests!.map((d) => ({ digest: d.digest, mediaType: d.mediaType, size: d.size, platform: d.platform ?? null, artifactType: d.artifactType ?? null })) }
      : {
        config: parsed.config ? { digest: parsed.config.digest, mediaType: parsed.config.mediaType, size: parsed.config.size } : null,
        layers: (parsed.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, ...(l.annotations ? { annotations: l.annotations } : {}) })),
      }),
    manifest: parsed,
  };
}

export const browseEndpoints: Endpoint[] = [
  {
    method: 'GET', path: '/projects/{project}/repositories', access: 'project-reader',
    summary: 'the project\'s repositories in name order, a page at a time, each with its tag count (first 100), size (the distinct blobs it links, first 10,000; null where the store cannot tell), last push and pull count (the newest 1,000 audit entries; null without an audit trail); ?fields=name: names only',
    async handle({ req, deps, project }) {
      const fields = req.query.get('fields');
      if (fields !== null && fields !== 'name') throw invalid('fields', 'the one choice is fields=name (names only); leave it out for the summaries');
      const page = pageParams(req);
      const result = await projectRepositories(deps.metadata, project!.name, page.n, page.last);
      const items = fields === 'name' ? result.items.map((name) => ({ name })) : await repositorySummaries(deps.metadata, deps.audit?.store, project!.name, result.items);
      return listResponse(req, 'repositories', { items, more: result.more }, page.n, (r) => r.name, fields === 'name' ? { fields } : {});
    },
  },
  {
    method: 'GET', path: '/repositories/{repository+}/tags', access: 'repository-reader', summary: 'tags in name order with the digest, media type and size each points at and the day it was last pulled (null: not since pulls are recorded), a page at a time',
    async handle({ req, deps, path }) {
      const repo = path.repository!;
      if (!(await deps.metadata.repositoryExists(repo))) throw notFound('repository', repo);
      const page = pageParams(req);
      const tags = await deps.metadata.listTags(repo, page.n, page.last);
      const heads = await Promise.all(tags.items.map((tag) => deps.metadata.headManifest(repo, { tag })));
      const lastPulled = (at: number | undefined) => (at === undefined ? null : new Date(at).toISOString());
      const items = tags.items.map((name, i) => ({ name, digest: heads[i]?.digest ?? null, mediaType: heads[i]?.mediaType ?? null, size: heads[i]?.size ?? null, lastPulled: lastPulled(heads[i]?.pulledAt) }));
      return listResponse(req, 'tags', { items, more: tags.more }, page.n, (t) => t.name);
    },
  },
  {
    method: 'GET', path: '/repositories/{repository+}/artifacts/{reference}', access: 'repository-reader',
    summary: 'one manifest by tag or digest: media type, size, created, config and layers or the platforms of an index, annotations, subject, referrers (first 100) and the manifest itself',
    async handle({ deps, path }) {
      const repo = path.repository!;
      const ref = parseReference(path.reference!);
      const m = ref.kind === 'tag' ? await deps.metadata.getTaggedManifest(repo, ref.tag) : await deps.metadata.getManifest(repo, ref.digest);
      if (!m) throw notFound('artifact', `${repo}:${path.reference!}`);
      const referrers = await deps.metadata.listReferrers(repo, m.digest, 100);
      return jsonResponse(200, { repository: repo, ...details(m), referrers: referrers.items, moreReferrers: referrers.more });
    },
  },
];
