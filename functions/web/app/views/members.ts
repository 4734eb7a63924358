// A project's members and their roles (its admins only): add a member or change a role.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { html } from '../html.ts';
import { ErrorNote, Show, useLoad } from '../widgets.ts';
import { ProjectNav } from './project.ts';

const ROLES = ['guest', 'developer', 'maintainer', 'admin'];

export function MembersView({ project, session }: { project: string; session: Session | undefined }) {
  const members = useLoad(`members:${project}`, () => api<{ members: { user: string; role: string }[] }>('GET', `/projects/${encodeURIComponent(project)}/members?n=1000`));
  const [user, setUser] = useState('');
  const [role, setRole] = useState('developer');
  const [error, setError] = useState<Error>();
  const submit = (e: Event) => {
    e.preventDefault();
    setError(undefined);
    api('PUT', `/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(user)}`, { role }).then(() => {
      setUser('');
      members.reload();
    }, setError);
  };
  return html`<section>
    <h1>Project ${project}: members</h1>
    <${ProjectNav} project=${project} current="Members" session=${session} />
    <${Show} loaded=${members}>${(page: { members: { user: string; role: string }[] }) => html`<div class="scroll"><table>
      <thead><tr><th scope="col">User</th><th scope="col">Role</th></tr></thead>
      <tbody>${page.members.map((m) => html`<tr key=${m.user}><td>${m.user}</td><td>${m.role}</td></tr>`)}</tbody>
    </table></div>`}<//>
    <form class="inline" onSubmit=${submit} aria-labelledby="add-member">
      <h2 id="add-member">Add a member or change a role</h2>
      <label>User <input name="user" required value=${user} onInput=${(e: Event) => setUser((e.target as HTMLInputElement).value)} /></label>
      <label>Role <select name="role" value=${role} onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}>
        ${ROLES.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}
      </select></label>
      <button type="submit">Save member</button>
      <${ErrorNote} error=${error} />
    </form>
  </section>`;
}
