// Tag list, catalog and referrers: key-ordered listings with `n` / `last` paging and Link headers.
import { repoAccess, type Principal } from '../access.ts';
import { identityOfSubject, pullFilter } from '../auth/grants.ts';
import { RegistryError } from '../errors.ts';
import { requireDigest } from '../grammar.ts';
import { jsonResponse, type RegistryRequest } from '../http.ts';
import { MediaTypes } from '../manifest.ts';
import type { Operation, RegistryDeps } from '../context.ts';
import type { Descriptor, Page } from '../ports.ts';

interface PageRequest {
  /** Requested page size, capped at the registry's maximum; undefined when the client sent no `n`. */
  n: number | undefined;
  last: string | undefined;
}

function pageRequest(req: RegistryRequest, deps: RegistryDeps): PageRequest {
  const rawN = req.query.get('n');
  let n: number | undefined;
  if (rawN !== null) {
    if (!/^\d{1,100}$/.test(rawN)) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: rawN.slice(0, 50) });
    n = Math.min(Number(rawN), deps.settings.maxPageSize);
  }
  const last = req.query.get('last') ?? undefined;
  return { n, last: last === '' ? undefined : last };
}

/** Fetches one page of `n`, or (without `n`) walks every page, as clients expect of an unpaged list. */
async function collect(page: PageRequest, max: number, fetch: (limit: number, last?: string) => Promise<Page<string>>): Promise<Page<string>> {
  if (page.n !== undefined) return page.n === 0 ? { items: [], more: false } : fetch(page.n, page.last);
  const items: string[] = [];
  let last = page.last;
  for (;;) {
    const p = await fetch(max, last);
    items.push(...p.items);
    if (!p.more || p.items.length === 0) return { items, more: false };
    last = p.items[p.items.length - 1];
  }
}

function linkHeader(path: string, n: number, result: Page<string>): Record<string, string> {
  const last = result.items[result.items.length - 1];
  if (!result.more || last === undefined) return {};
  return { link: `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"` };
}

export const listTags: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  cache: () => 'moving',
  async handle({ params, deps, req }) {
    const page = pageRequest(req, deps);
    if (!(await deps.metadata.repositoryExists(params.name))) throw new RegistryError('NAME_UNKNOWN', { name: params.name });
    const result = await collect(page, deps.settings.maxPageSize, (limit, last) => deps.metadata.listTags(params.name, limit, last));
    return jsonResponse(200, { name: params.name, tags: result.items }, linkHeader(`/v2/${params.name}/tags/list`, page.n ?? 0, result));
  },
};

export const listCatalog: Operation = {
  access: () => [{ type: 'registry', name: 'catalog', actions: ['*'] }],
  async handle({ deps, req, principal }) {
    const page = pageRequest(req, deps);
    const n = page.n ?? deps.settings.maxPageSize;
    const visible = await catalogFilter(deps, principal);
    const list = (limit: number, last?: string) => deps.metadata.listRepositories(limit, last);
    const result = await collect({ n, last: page.last }, n, visible ? (limit, last) => filteredPage(list, visible, limit, last) : list);
    return jsonResponse(200, { repositories: result.items }, linkHeader('/v2/_catalog', n, result));
  },
};

/**
 * Which repositories the catalog shows the caller: undefined for all of them (auth off, or a system
 * administrator), else the ones it may pull. Its token only says who; the rights are read now.
 */
async function catalogFilter(deps: RegistryDeps, principal: Principal): Promise<((repository: string) => Promise<boolean>) | undefined> {
  if (!deps.auth) return undefined;
  const who = await identityOfSubject(deps.auth.store, principal.subject, deps.now());
  if (!who) throw new RegistryError('UNAUTHORIZED', { reason: 'the account of this token is disabled, revoked, expired or gone' });
  if (who.kind === 'user' && who.user.admin) return undefined;
  return pullFilter(deps.auth.store, who);
}

/** Up to `limit` repositories after `last` that pass `keep`, reading the store a page at a time. */
async function filteredPage(list: (limit: number, last?: string) => Promise<Page<string>>, keep: (repository: string) => Promise<boolean>, limit: number, last?: string): Promise<Page<string>> {
  const items: string[] = [];
  for (let cursor = last; ; ) {
    const page = await list(limit, cursor);
    for (const [i, name] of page.items.entries()) {
      if (!(await keep(name))) continue;
      items.push(name);
      if (items.length === limit) return { items, more: i < page.items.length - 1 || page.more };
    }
    if (!page.more || page.items.length === 0) return { items, more: false };
    cursor = page.items[page.items.length - 1];
  }
}

/**
 * Referrers in digest order, one page of at most `maxPageSize` (after the artifactType filter), with
 * a Link to the next page (`last` = the last digest returned), as the spec allows for long lists.
 */
export const listReferrers: Operation = {
  access: (p) => [repoAccess(p.name, 'pull')],
  async handle({ params, deps, req }) {
    const digest = requireDigest(params.digest);
    const artifactType = req.query.get('artifactType');
    const rawLast = req.query.get('last');
    let last = rawLast === null || rawLast === '' ? undefined : requireDigest(rawLast);
    const max = deps.settings.maxPageSize;
    const manifests: Descriptor[] = [];
    let more: boolean;
    // Filtered pages may come back short: keep reading until the page is full or the list ends.
    for (;;) {
      const page = await deps.metadata.listReferrers(params.name, digest, max, last);
      let i = 0;
      for (; i < page.items.length && manifests.length < max; i++) {
        const d = page.items[i]!;
        last = d.digest;
        if (artifactType === null || d.artifactType === artifactType) manifests.push(d);
      }
      more = page.items.length > 0 && (i < page.items.length || page.more);
      if (!more || manifests.length >= max) break;
    }
    const headers: Record<string, string> = { 'content-type': MediaTypes.ociIndex };
    if (artifactType !== null) headers['oci-filters-applied'] = 'artifactType';
    if (more && last !== undefined) {
      const filter = artifactType === null ? '' : `&artifactType=${encodeURIComponent(artifactType)}`;
      headers.link = `</v2/${params.name}/referrers/${digest}?last=${encodeURIComponent(last)}${filter}>; rel="next"`;
    }
    return jsonResponse(200, { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, headers);
  },
};
