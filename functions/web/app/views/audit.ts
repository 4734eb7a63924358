// The audit trail, newest first: a project's (its admins) or the whole registry's (system
// administrators), filtered by time on the server and by actor and action on the page.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { when } from '../format.ts';
import { html } from '../html.ts';
import { Show, useLoad } from '../widgets.ts';
import { ProjectNav } from './project.ts';

interface Entry {
  id: string;
  time: string | number;
  action: string;
  actor: string;
  address: string;
  project: string;
  repository?: string;
  target?: string;
}

const SINCE = ['1h', '24h', '7d', '30d', '365d'];

export function AuditView({ project, session }: { project?: string | undefined; session: Session | undefined }) {
  const [since, setSince] = useState('7d');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const path = project === undefined ? `/audit?n=1000&since=${since}` : `/projects/${encodeURIComponent(project)}/audit?n=1000&since=${since}`;
  const entries = useLoad(`audit:${path}`, () => api<{ entries: Entry[] }>('GET', path));
  const keep = (e: Entry) => e.actor.includes(actor) && e.action.includes(action);
  return html`<section>
    <h1>${project === undefined ? 'Audit log' : `Project ${project}: audit log`}</h1>
    ${project === undefined ? null : html`<${ProjectNav} project=${project} current="Audit log" session=${session} />`}
    <form class="inline filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Filters">
      <label>Since <select value=${since} onChange=${(e: Event) => setSince((e.target as HTMLSelectElement).value)}>
        ${SINCE.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}
      </select></label>
      <label>Actor <input value=${actor} onInput=${(e: Event) => setActor((e.target as HTMLInputElement).value)} /></label>
      <label>Action <input value=${action} onInput=${(e: Event) => setAction((e.target as HTMLInputElement).value)} /></label>
    </form>
    <${Show} loaded=${entries}>${(page: { entries: Entry[] }) => {
      const rows = page.entries.filter(keep);
      return rows.length === 0 ? html`<p>No entries.</p>` : html`<div class="scroll"><table>
        <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Project</th><th scope="col">What</th><th scope="col">Address</th></tr></thead>
        <tbody>${rows.map((e) => html`<tr key=${e.id}>
          <td>${when(e.time)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.project || '—'}</td>
          <td class="wrap">${[e.repository, e.target].filter(Boolean).join(' ') || '—'}</td><td>${e.address}</td>
        </tr>`)}</tbody>
      </table></div>`;
    }}<//>
  </section>`;
}
