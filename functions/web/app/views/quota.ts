// A project's storage quota and usage (docs/quotas.md): shown where the management API returns them
// (to the project's admins), set or removed by a system administrator (the server refuses others).
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { bytes, parseSize } from '../format.ts';
import { html } from '../html.ts';
import { ErrorNote, Show, useLoad } from '../widgets.ts';

/** What the project and quota answers carry for those allowed to see it. */
export interface Storage {
  quotaBytes?: number | null;
  usedBytes?: number;
  blobs?: number;
}

/** The share of the quota used, as shown: `<1%` for a little, above `100%` when over it. */
export function percentUsed(used: number, quota: number): string {
  const pct = (used / quota) * 100;
  return used > 0 && pct < 1 ? '<1%' : `${Math.round(pct)}%`;
}

/** `3.0 MiB / 10 GiB (1%)` and a bar, or `3.0 MiB used, no quota`; nothing when the answer has no usage. */
export function Usage({ storage }: { storage: Storage }) {
  const used = storage.usedBytes;
  if (used === undefined) return null;
  const quota = storage.quotaBytes;
  if (!quota) return html`<span class="usage">${bytes(used)} used, no quota</span>`;
  return html`<span class=${`usage${used > quota ? ' over' : ''}`}>${bytes(used)} / ${bytes(quota)} (${percentUsed(used, quota)})
    <meter min="0" max=${quota} high=${quota * 0.9} value=${Math.min(used, quota)} aria-hidden="true"></meter></span>`;
}

/** The quota section of the tag policies tab: the usage for the project's admins, the editor for a system administrator. */
export function QuotaSection({ project, editable }: { project: string; editable: boolean }) {
  const path = `/projects/${encodeURIComponent(project)}/quota`;
  const quota = useLoad(`quota:${project}`, () => api<Storage>('GET', path));
  const [size, setSize] = useState('');
  const [error, setError] = useState<Error>();
  const put = (quotaBytes: number | null) => {
    setError(undefined);
    api('PUT', path, { quotaBytes }).then(() => {
      setSize('');
      quota.reload();
    }, setError);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    let n: number;
    try {
      n = parseSize(size);
    } catch (err) {
      setError(err as Error);
      return;
    }
    put(n);
  };
  return html`<section aria-labelledby="quota-title">
    <h2 id="quota-title">Storage quota</h2>
    <${Show} loaded=${quota}>${(q: Storage) => html`<p><${Usage} storage=${q} />, in ${q.blobs ?? 0} ${q.blobs === 1 ? 'blob' : 'blobs'}.
      ${q.quotaBytes ? 'Pushes beyond the quota are refused.' : null}</p>
      ${editable && q.quotaBytes ? html`<p><button type="button" onClick=${() => put(null)}>Remove quota</button></p>` : null}`}<//>
    ${editable ? html`<form class="inline" onSubmit=${submit} aria-label="Set the storage quota">
      <label>Quota (such as 10 GiB or 500 MB) <input name="quota" required value=${size} onInput=${(e: Event) => setSize((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Set quota</button>
      <${ErrorNote} error=${error} />
    </form>` : html`<${ErrorNote} error=${error} />`}
  </section>`;
}
