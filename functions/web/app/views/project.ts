// One project: its repositories; for its admins, its storage use against its quota, the visibility switch and the ways to its members,
// robots and audit trail.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { link, when } from '../format.ts';
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

export function ProjectView({ name, session }: { name: string; session: Session | undefined }) {
  const project = useLoad(`project:${name}:${session?.user ?? ''}`, () => api<Project>('GET', `/projects/${encodeURIComponent(name)}`));
  const repos = useLoad(`repos:${name}:${session?.user ?? ''}`, () => api<{ repositories: { name: string }[]; next: string | null }>('GET', `/projects/${encodeURIComponent(name)}/repositories?n=1000`));
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
    <${Show} loaded=${repos}>${(page: { repositories: { name: string }[]; next: string | null }) => page.repositories.length === 0
      ? html`<p>No repository yet: push one to <code>${location.host}/${name}/…</code>.</p>`
      : html`<ul class="list">${page.repositories.map((r) => html`<li key=${r.name}><a href=${link.repository(r.name)}>${r.name}</a></li>`)}</ul>
        ${page.next ? html`<p>Only the first 1000 are shown.</p>` : null}`}<//>
  </section>`;
}
