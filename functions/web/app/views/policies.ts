// A project's tag policies: immutable tags, retention rules (GC runs remove the tags they cover) and
// patterns protected from retention. Anyone who sees the project reads them; its admins add and remove.
// Its admins also see the storage quota and usage; a system administrator sets or removes the quota.
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { html } from '../html.ts';
import { ErrorNote, Show, useLoad } from '../widgets.ts';
import { administers, ProjectNav } from './project.ts';
import { QuotaSection } from './quota.ts';

interface Rule {
  repositories: string;
  tags: string;
  keep?: number;
  olderThanDays?: number;
  notPulledDays?: number;
}

interface Policy {
  immutableTags: Rule[];
  retention: Rule[];
  retentionProtect: Rule[];
}

const LIMITS = { keep: 'keep the newest', olderThanDays: 'remove older than (days)', notPulledDays: 'remove not pulled for (days)' } as const;
type Limit = keyof typeof LIMITS;

const limitText = (r: Rule): string =>
  r.keep !== undefined ? `keep the ${r.keep} newest` : r.olderThanDays !== undefined ? `older than ${r.olderThanDays} days` : r.notPulledDays !== undefined ? `not pulled for ${r.notPulledDays} days` : '';

/** The query naming a rule for its DELETE. */
const ruleQuery = (r: Rule): string => new URLSearchParams(Object.entries(r).map(([k, v]) => [k, String(v)])).toString();

interface Kind {
  title: string;
  /** Path below the project of its POST and DELETE. */
  path: string;
  rules: (p: Policy) => Rule[];
  withLimit: boolean;
}

const KINDS: Kind[] = [
  { title: 'Immutable tags', path: 'immutable-rules', rules: (p) => p.immutableTags, withLimit: false },
  { title: 'Retention rules', path: 'retention-rules', rules: (p) => p.retention, withLimit: true },
  { title: 'Protected from retention', path: 'protect-rules', rules: (p) => p.retentionProtect, withLimit: false },
];

function RuleSection({ project, kind, policy, admin, onChange }: { project: string; kind: Kind; policy: Policy; admin: boolean; onChange: () => void }) {
  const base = `/projects/${encodeURIComponent(project)}/${kind.path}`;
  const [repositories, setRepositories] = useState(`${project}/*`);
  const [tags, setTags] = useState('');
  const [limit, setLimit] = useState<Limit>('keep');
  const [value, setValue] = useState('10');
  const [error, setError] = useState<Error>();
  const id = kind.path;
  const add = (e: Event) => {
    e.preventDefault();
    setError(undefined);
    api('POST', base, { repositories, tags, ...(kind.withLimit ? { [limit]: Number(value) } : {}) }).then(() => {
      setTags('');
      onChange();
    }, setError);
  };
  const remove = (r: Rule) => api('DELETE', `${base}?${ruleQuery(r)}`).then(onChange, setError);
  const rules = kind.rules(policy);
  return html`<section aria-labelledby=${`${id}-title`}>
    <h2 id=${`${id}-title`}>${kind.title}</h2>
    ${rules.length === 0 ? html`<p>None.</p>` : html`<div class="scroll"><table>
      <thead><tr><th scope="col">Repositories</th><th scope="col">Tags</th>${kind.withLimit ? html`<th scope="col">Limit</th>` : null}${admin ? html`<th scope="col"><span class="sr-only">Remove</span></th>` : null}</tr></thead>
      <tbody>${rules.map((r) => html`<tr key=${ruleQuery(r)}>
        <td><code>${r.repositories}</code></td><td><code>${r.tags}</code></td>${kind.withLimit ? html`<td>${limitText(r)}</td>` : null}
        ${admin ? html`<td><button type="button" onClick=${() => remove(r)} aria-label=${`Remove ${kind.title.toLowerCase()} rule ${r.repositories} ${r.tags}`}>Remove</button></td>` : null}
      </tr>`)}</tbody>
    </table></div>`}
    ${admin ? html`<form class="inline" onSubmit=${add} aria-label=${`Add to ${kind.title.toLowerCase()}`}>
      <label>Repositories (pattern) <input id=${`${id}-repositories`} required value=${repositories} onInput=${(e: Event) => setRepositories((e.target as HTMLInputElement).value)} /></label>
      <label>Tags (pattern) <input id=${`${id}-tags`} required value=${tags} onInput=${(e: Event) => setTags((e.target as HTMLInputElement).value)} /></label>
      ${kind.withLimit ? html`<label>Limit <select value=${limit} onChange=${(e: Event) => setLimit((e.target as HTMLSelectElement).value as Limit)}>
          ${Object.entries(LIMITS).map(([k, text]) => html`<option key=${k} value=${k}>${text}</option>`)}
        </select></label>
        <label>Number <input type="number" min="1" required value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} /></label>` : null}
      <button type="submit">Add rule</button>
      <${ErrorNote} error=${error} />
    </form>` : html`<${ErrorNote} error=${error} />`}
  </section>`;
}

export function PoliciesView({ project, session }: { project: string; session: Session | undefined }) {
  const policy = useLoad(`policy:${project}`, () => api<Policy>('GET', `/projects/${encodeURIComponent(project)}/policy`));
  const admin = administers(session, project);
  return html`<section>
    <h1>Project ${project}: tag policies</h1>
    <${ProjectNav} project=${project} current="Tag policies" session=${session} />
    <p>Patterns: <code>*</code> is any run of characters; repository patterns are full names inside the project.
      Immutable tags never move once pushed; retention rules say which tags garbage collection removes; protected tags no retention rule removes.</p>
    <${Show} loaded=${policy}>${(p: Policy) => KINDS.map((kind) => html`<${RuleSection} key=${kind.path} project=${project} kind=${kind} policy=${p} admin=${admin} onChange=${policy.reload} />`)}<//>
    ${admin ? html`<${QuotaSection} project=${project} editable=${!!session?.admin} />` : null}
  </section>`;
}
