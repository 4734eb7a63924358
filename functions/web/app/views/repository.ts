// A repository's tags: what each points at (digest, media type, size, last pulled), and for
// maintainers and admins a Delete button with a confirmation that names what goes.
import { useState } from 'preact/hooks';
import { deleteTag, api, type Session } from '../api.ts';
import { bytes, link, projectOf, shortDigest, when } from '../format.ts';
import { html } from '../html.ts';
import { Confirm, ErrorNote, Show, useLoad } from '../widgets.ts';

interface Tag {
  name: string;
  digest: string | null;
  mediaType: string | null;
  size: number | null;
  lastPulled?: string | null;
}

/** Whether the viewer's role may delete in the project (the registry checks again on the DELETE). */
export const mayDelete = (session: Session | undefined, project: string): boolean =>
  !!session && (session.admin || ['maintainer', 'admin'].includes(session.roles[project] ?? ''));

export function RepositoryView({ name, session }: { name: string; session: Session | undefined }) {
  const tags = useLoad(`tags:${name}:${session?.user ?? ''}`, () => api<{ tags: Tag[]; next: string | null }>('GET', `/repositories/${name}/tags?n=1000`));
  const [asked, setAsked] = useState<Tag>();
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState('');
  const canDelete = mayDelete(session, projectOf(name));
  const remove = (tag: Tag) => {
    setAsked(undefined);
    setError(undefined);
    deleteTag(name, tag.name).then(() => {
      setDone(`Deleted tag ${tag.name}.`);
      tags.reload();
    }, setError);
  };
  return html`<section>
    <p class="crumbs"><a href=${link.project(projectOf(name))}>${projectOf(name)}</a> /</p>
    <h1>Repository ${name}</h1>
    <p role="status">${done}</p>
    <${ErrorNote} error=${error} />
    ${asked ? html`<${Confirm} action=${`Delete tag ${asked.name}`} onCancel=${() => setAsked(undefined)} onConfirm=${() => remove(asked)}
      what=${html`Delete the tag <strong>${name}:${asked.name}</strong>? It points at <code>${asked.digest}</code>; the manifest stays, and other tags of it too.`} />` : null}
    <${Show} loaded=${tags}>${(page: { tags: Tag[]; next: string | null }) => page.tags.length === 0 ? html`<p>No tags.</p>` : html`
      <div class="scroll"><table>
        <thead><tr><th scope="col">Tag</th><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th><th scope="col">Last pulled</th>${canDelete ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : null}</tr></thead>
        <tbody>${page.tags.map((t) => html`<tr key=${t.name}>
          <td><a href=${link.artifact(name, t.name)}>${t.name}</a></td>
          <td><code title=${t.digest ?? ''}>${shortDigest(t.digest)}</code></td>
          <td class="wrap">${t.mediaType ?? '—'}</td>
          <td>${bytes(t.size)}</td>
          <td>${when(t.lastPulled)}</td>
          ${canDelete ? html`<td><button type="button" class="danger" onClick=${() => setAsked(t)} aria-label=${`Delete tag ${t.name}`}>Delete</button></td>` : null}
        </tr>`)}</tbody>
      </table></div>
      ${page.next ? html`<p>Only the first 1000 tags are shown.</p>` : null}`}<//>
  </section>`;
}
