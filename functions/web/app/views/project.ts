// One project: its repositories (tag count, size, last push, pulls); for its admins, its storage use against its quota, the visibility switch
// and the ways to its members, robots and audit trail.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { bytes, link, when } from '../format.ts';
import { html } from '../html.ts';
import { ErrorNote, Show, useLoad } from '../widgets.ts';
import type { Project } from './projects.ts';
import { Usage } from './quota.ts';

/** Whether the viewer administers the project (the server decides again at each call). */
export const administers = (session: Session | undefined, project: string): boolean => !!session && (session.admin || session.roles[project] === 'admin');

export function ProjectNav({ project, current, session }: { project: string; current: string; session: Session | undefined }) {
  const items: [string, string][] = [['Repositories', link.project(project)], ['Tag policies', link.policies(project)]];
  if (administers(session, project)) items.push(['Members', link.members(project)], ['Robots', link.robots(project)], ['Audit log', link.audit(project)]);
  return html`<nav aria-label="Project" class="tabs"><ul>${items.map(([label, href]) => html`<li key=${href}>
    <a href=${href} aria-current=${current === label ? 'page' : undefined}>${label}</a></li>`)}</ul></nav>`;
}

function Visibility({ project, onChanged }: { project: Project; onChanged: () => void }) {
  const [error, setError] = useState<Error>();
  const toggle = () => api('PATCH', `/projects/${encodeURIComponent(project.name)}`, { public: !project.public }).then(onChanged, setError);
  return html`<p>
    <button type="button" onClick=${toggle}>${project.public ? 'Make private' : 'Make public'}</button>
    <${ErrorNote} error=${error} />
  </p>`;
}

/** A repository as the project's list summarizes it (GET /api/v1/projects/{project}/repositories). */
interface RepositorySummary {
  name: string;
  tags: number;
  moreTags: boolean;
  lastPush: string | null;
  pulls: number | null;
  /** Bytes of the distinct blobs it links (null: the registry cannot tell); of its first 10,000 links when not sizeComplete. */
  size: number | null;
  sizeComplete: boolean;
}

interface RepositoryPage {
  repositories: RepositorySummary[];
  next: string | null;
}

/** Repositories shown on the project view (one page of the API). */
const REPOSITORY_PAGE = 100;

/** `12 MiB`; `≥ 8.5 GiB` when only part of the links were summed; `—` when unknown. */
const repositorySize = (r: RepositorySummary): string => (r.size !== null && !r.sizeComplete ? `≥ ${bytes(r.size)}` : bytes(r.size));

function Repositories({ project, page }: { project: string; page: RepositoryPage }) {
  return html`<div class="scroll"><table>
      <caption>Repositories of ${project}${page.next ? `, the first ${REPOSITORY_PAGE} by name` : ''}: tags (up to 100 counted); size of the distinct blobs each links (a blob shared with other repositories counts in each; ≥: over 10,000 blobs, the first 10,000 summed); last push and pulls from the project's newest 1,000 audit entries (pulls are written there once a minute), — where the registry keeps no audit trail</caption>
      <thead><tr><th scope="col">Repository</th><th scope="col">Tags</th><th scope="col">Size</th><th scope="col">Last push</th><th scope="col">Pulls</th></tr></thead>
      <tbody>${page.repositories.map((r) => html`<tr key=${r.name}>
        <th scope="row"><a href=${link.repository(r.name)}>${r.name}</a></th>
        <td>${r.moreTags ? `${r.tags}+` : r.tags}</td>
        <td>${repositorySize(r)}</td>
        <td>${when(r.lastPush)}</td>
        <td>${r.pulls ?? '—'}</td>
      </tr>`)}</tbody>
    </table></div>
    ${page.next ? html`<p>Only the first ${REPOSITORY_PAGE} repositories are shown.</p>` : null}`;
}

export function ProjectView({ name, session }: { name: string; session: Session | undefined }) {
  const project = useLoad(`project:${name}:${session?.user ?? ''}`, () => api<Project>('GET', `/projects/${encodeURIComponent(name)}`));
  const repos = useLoad(`repos:${name}:${session?.user ?? ''}`, () => api<RepositoryPage>('GET', `/projects/${encodeURIComponent(name)}/repositories?n=${REPOSITORY_PAGE}`));
  return html`<section>
    <h1>Project ${name}</h1>
    <${ProjectNav} project=${name} current="Repositories" session=${session} />
    <${Show} loaded=${project}>${(p: Project) => html`<dl class="facts">
      <dt>Visibility</dt><dd><span class=${`badge ${p.public ? 'public' : 'private'}`}>${p.public ? 'public' : 'private'}</span></dd>
      <dt>Your role</dt><dd>${p.role ?? '—'}</dd>
      <dt>Created</dt><dd>${when(p.created)}</dd>
      ${p.usedBytes === undefined ? null : html`<dt>Storage</dt><dd><${Usage} storage=${p} /></dd>`}
      ${p.immutableTags?.length ? html`<dt>Immutable tags</dt><dd>${p.immutableTags.map((r) => `${r.repositories}:${r.tags}`).join(', ')}</dd>` : null}
    </dl>
    ${administers(session, name) ? html`<${Visibility} project=${p} onChanged=${project.reload} />` : null}`}<//>
    <h2>Repositories</h2>
    <${Show} loaded=${repos}>${(page: RepositoryPage) => page.repositories.length === 0
      ? html`<p>No repository yet: push one to <code>${location.host}/${name}/…</code>.</p>`
      : html`<${Repositories} project=${name} page=${page} />`}<//>
  </section>`;
}
