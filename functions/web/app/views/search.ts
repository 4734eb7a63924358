// Search by repository name: the repositories of every project the viewer may see whose name
// contains the text (read page by page from the management API; fine for hundreds of repositories).
import { api } from '../api.ts';
import { link } from '../format.ts';
import { html } from '../html.ts';
import { Show, useLoad } from '../widgets.ts';

async function find(q: string): Promise<string[]> {
  const { projects } = await api<{ projects: { name: string }[] }>('GET', '/projects?n=1000');
  const lists = await Promise.all(projects.map((p) => api<{ repositories: { name: string }[] }>('GET', `/projects/${encodeURIComponent(p.name)}/repositories?n=1000&fields=name`)
    .then((r) => r.repositories.map((x) => x.name), () => [] as string[])));
  const needle = q.toLowerCase();
  return lists.flat().filter((name) => name.toLowerCase().includes(needle));
}

export function SearchView({ q }: { q: string }) {
  const found = useLoad(`search:${q}`, () => find(q));
  return html`<section>
    <h1>Repositories matching “${q}”</h1>
    <${Show} loaded=${found}>${(names: string[]) => names.length === 0 ? html`<p>None.</p>`
      : html`<ul class="list">${names.map((n) => html`<li key=${n}><a href=${link.repository(n)}>${n}</a></li>`)}</ul>`}<//>
  </section>`;
}
