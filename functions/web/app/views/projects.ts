// The projects the viewer may see (anonymous: the public ones), their repository counts (names only: fields=name), the storage
// use of those the viewer administers, and, for a system administrator, a form to create one.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { link } from '../format.ts';
import { html } from '../html.ts';
import { ErrorNote, Show, useLoad } from '../widgets.ts';
import { Usage, type Storage } from './quota.ts';

export interface Project extends Storage {
  name: string;
  public: boolean;
  role: string | null;
  created: string;
  immutableTags?: { repositories: string; tags: string }[];
}

interface Row extends Project {
  repositories: string;
}

/** The project's storage quota and usage where the viewer may read them (its admins), else nothing. */
const storageOf = (p: Project): Promise<Storage> =>
  p.role === 'admin' ? api<Storage>('GET', `/projects/${encodeURIComponent(p.name)}/quota`).catch(() => ({})) : Promise.resolve({});

async function withCounts(): Promise<Row[]> {
  const { projects } = await api<{ projects: Project[] }>('GET', '/projects?n=1000');
  return Promise.all(projects.map(async (p) => {
    const [page, storage] = await Promise.all([
      api<{ repositories: unknown[]; next: string | null }>('GET', `/projects/${encodeURIComponent(p.name)}/repositories?n=1000&fields=name`).catch(() => undefined),
      storageOf(p),
    ]);
    return { ...p, ...storage, repositories: page ? `${page.repositories.length}${page.next ? '+' : ''}` : '—' };
  }));
}

function CreateProject({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = (e: Event) => {
    e.preventDefault();
    setError(undefined);
    api('POST', '/projects', { name, public: isPublic }).then(() => {
      setName('');
      onCreated();
    }, setError);
  };
  return html`<form class="inline" onSubmit=${submit} aria-labelledby="create-project">
    <h2 id="create-project">Create a project</h2>
    <label>Name <input name="name" required value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></label>
    <label><input type="checkbox" checked=${isPublic} onChange=${(e: Event) => setPublic((e.target as HTMLInputElement).checked)} /> Public (anyone may pull)</label>
    <button type="submit">Create project</button>
    <${ErrorNote} error=${error} />
  </form>`;
}

export function ProjectsView({ session }: { session: Session | undefined }) {
  const loaded = useLoad(`projects:${session?.user ?? ''}`, withCounts);
  return html`<section>
    <h1>Projects</h1>
    ${session ? null : html`<p>Signed out: public projects only. <a href="#/signin">Sign in</a> to see yours.</p>`}
    <${Show} loaded=${loaded}>${(rows: Row[]) => rows.length === 0 ? html`<p>No project to show.</p>` : html`
      <div class="scroll"><table>
        <thead><tr><th scope="col">Project</th><th scope="col">Visibility</th><th scope="col">Repositories</th><th scope="col">Your role</th>${rows.some((p) => p.usedBytes !== undefined) ? html`<th scope="col">Storage</th>` : null}</tr></thead>
        <tbody>${rows.map((p) => html`<tr key=${p.name}>
          <td><a href=${link.project(p.name)}>${p.name}</a></td>
          <td><span class=${`badge ${p.public ? 'public' : 'private'}`}>${p.public ? 'public' : 'private'}</span></td>
          <td>${p.repositories}</td>
          <td>${p.role ?? '—'}</td>
          ${rows.some((r) => r.usedBytes !== undefined) ? html`<td><${Usage} storage=${p} /></td>` : null}
        </tr>`)}</tbody>
      </table></div>`}<//>
    ${session?.admin ? html`<${CreateProject} onCreated=${loaded.reload} />` : null}
  </section>`;
}
