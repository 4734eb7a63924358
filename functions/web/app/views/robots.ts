// A project's robot accounts (its admins only): create, rotate, revoke. A new secret is shown once,
// with a copy button, and is gone from the page when the viewer leaves it.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { when } from '../format.ts';
import { html } from '../html.ts';
import { Confirm, CopyField, ErrorNote, Show, useLoad } from '../widgets.ts';
import { ProjectNav } from './project.ts';

interface Robot {
  name: string;
  actions: string[];
  repositories: string[] | null;
  expiresAt: string;
  revoked: boolean;
  created: string;
}

const ACTIONS = ['pull', 'push', 'delete'];
const EXPIRIES = ['30d', '90d', '365d', 'never'];
/** `ci` of `robot$team+ci`: the path names a project robot by its own name. */
const shortName = (full: string): string => full.slice(full.indexOf('+') + 1);

export function RobotsView({ project, session }: { project: string; session: Session | undefined }) {
  const base = `/projects/${encodeURIComponent(project)}/robots`;
  const robots = useLoad(`robots:${project}`, () => api<{ robots: Robot[] }>('GET', `${base}?n=1000`));
  const [name, setName] = useState('');
  const [actions, setActions] = useState<string[]>(['pull']);
  const [expires, setExpires] = useState('90d');
  const [secret, setSecret] = useState<{ name: string; secret: string }>();
  const [revoking, setRevoking] = useState<string>();
  const [error, setError] = useState<Error>();
  const shown = (r: Robot & { secret: string }) => {
    setSecret({ name: r.name, secret: r.secret });
    robots.reload();
  };
  const create = (e: Event) => {
    e.preventDefault();
    setError(undefined);
    api<Robot & { secret: string }>('POST', base, { name, actions, expires }).then((r) => {
      setName('');
      shown(r);
    }, setError);
  };
  const rotate = (r: Robot) => api<Robot & { secret: string }>('POST', `${base}/${encodeURIComponent(shortName(r.name))}/rotate`).then(shown, setError);
  const revoke = (full: string) => {
    setRevoking(undefined);
    api('DELETE', `${base}/${encodeURIComponent(shortName(full))}`).then(robots.reload, setError);
  };
  const toggle = (a: string, on: boolean) => setActions((now) => (on ? [...now.filter((x) => x !== a), a] : now.filter((x) => x !== a)));
  return html`<section>
    <h1>Project ${project}: robots</h1>
    <${ProjectNav} project=${project} current="Robots" session=${session} />
    ${secret ? html`<div class="secret" role="region" aria-label="New robot secret">
      <p>The secret of <strong>${secret.name}</strong>, shown this once: copy it now.</p>
      <${CopyField} label="Robot name" text=${secret.name} />
      <${CopyField} label="Secret" text=${secret.secret} />
      <button type="button" onClick=${() => setSecret(undefined)}>Done, hide it</button>
    </div>` : null}
    <${ErrorNote} error=${error} />
    ${revoking ? html`<${Confirm} action=${`Revoke ${revoking}`} onCancel=${() => setRevoking(undefined)} onConfirm=${() => revoke(revoking)}
      what=${html`Revoke <strong>${revoking}</strong>? It gets no new token from now on; tokens it holds live out their 5 minutes.`} />` : null}
    <${Show} loaded=${robots}>${(page: { robots: Robot[] }) => page.robots.length === 0 ? html`<p>No robots.</p>` : html`<div class="scroll"><table>
      <thead><tr><th scope="col">Robot</th><th scope="col">Actions</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions on it</span></th></tr></thead>
      <tbody>${page.robots.map((r) => html`<tr key=${r.name}>
        <td><code>${r.name}</code></td><td>${r.actions.join(', ')}</td>
        <td>${r.expiresAt === 'never' ? 'never' : when(r.expiresAt)}</td><td>${r.revoked ? 'revoked' : 'active'}</td>
        <td>${r.revoked ? null : html`<button type="button" onClick=${() => rotate(r)}>Rotate secret</button>
          <button type="button" class="danger" onClick=${() => setRevoking(r.name)}>Revoke</button>`}</td>
      </tr>`)}</tbody>
    </table></div>`}<//>
    <form class="inline" onSubmit=${create} aria-labelledby="create-robot">
      <h2 id="create-robot">Create a robot</h2>
      <label>Name <input name="robot" required value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></label>
      <fieldset><legend>Actions</legend>
        ${ACTIONS.map((a) => html`<label key=${a}><input type="checkbox" checked=${actions.includes(a)} onChange=${(e: Event) => toggle(a, (e.target as HTMLInputElement).checked)} /> ${a}</label>`)}
      </fieldset>
      <label>Expires in <select value=${expires} onChange=${(e: Event) => setExpires((e.target as HTMLSelectElement).value)}>
        ${EXPIRIES.map((x) => html`<option key=${x} value=${x}>${x}</option>`)}
      </select></label>
      <button type="submit">Create robot</button>
    </form>
  </section>`;
}
