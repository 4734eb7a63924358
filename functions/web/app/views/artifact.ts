// One artifact by tag or digest: the pull command, what it is, the platforms of an index, config and
// layers of an image, referrers (signatures, SBOMs) with their artifact types, annotations, and the
// manifest itself.
import { api } from '../api.ts';
import { bytes, link, platform, projectOf, shortDigest, when } from '../format.ts';
import { html } from '../html.ts';
import { CopyField, Show, useLoad } from '../widgets.ts';

interface Descriptor {
  digest: string;
  mediaType?: string;
  size?: number;
  platform?: Record<string, unknown> | null;
  artifactType?: string | null;
  annotations?: Record<string, string>;
}

interface Artifact {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  created: string;
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string>;
  manifests?: Descriptor[];
  config?: Descriptor | null;
  layers?: Descriptor[];
  referrers: Descriptor[];
  moreReferrers: boolean;
  manifest: unknown;
}

function Annotations({ of }: { of: Record<string, string> | undefined }) {
  const entries = Object.entries(of ?? {});
  if (entries.length === 0) return html`<p>None.</p>`;
  return html`<dl class="facts">${entries.map(([k, v]) => html`<dt key=${k}>${k}</dt><dd class="wrap">${v}</dd>`)}</dl>`;
}

function Details({ a, reference }: { a: Artifact; reference: string }) {
  const ref = reference.includes(':') ? `@${reference}` : `:${reference}`;
  return html`
    <${CopyField} label="Pull command" text=${`docker pull ${location.host}/${a.repository}${ref}`} />
    <dl class="facts">
      <dt>Digest</dt><dd><code class="wrap">${a.digest}</code></dd>
      <dt>Media type</dt><dd class="wrap">${a.mediaType}</dd>
      ${a.artifactType ? html`<dt>Artifact type</dt><dd class="wrap">${a.artifactType}</dd>` : null}
      <dt>Size</dt><dd>${bytes(a.size)} (manifest)</dd>
      <dt>Pushed</dt><dd>${when(a.created)}</dd>
      ${a.subject ? html`<dt>Refers to</dt><dd><a href=${link.artifact(a.repository, a.subject)}><code>${shortDigest(a.subject)}</code></a></dd>` : null}
    </dl>
    ${a.manifests ? html`<h2>Platforms</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Platform</th><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th></tr></thead>
        <tbody>${a.manifests.map((m) => html`<tr key=${m.digest}>
          <td>${m.artifactType ? `(${m.artifactType})` : platform(m.platform)}</td>
          <td><a href=${link.artifact(a.repository, m.digest)}><code>${shortDigest(m.digest)}</code></a></td>
          <td class="wrap">${m.mediaType ?? '—'}</td><td>${bytes(m.size)}</td>
        </tr>`)}</tbody>
      </table></div>` : html`<h2>Config and layers</h2>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Part</th><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th></tr></thead>
        <tbody>
          ${a.config ? html`<tr><td>config</td><td><code title=${a.config.digest}>${shortDigest(a.config.digest)}</code></td><td class="wrap">${a.config.mediaType}</td><td>${bytes(a.config.size)}</td></tr>` : null}
          ${(a.layers ?? []).map((l, i) => html`<tr key=${`${i}${l.digest}`}><td>layer ${i + 1}</td><td><code title=${l.digest}>${shortDigest(l.digest)}</code></td><td class="wrap">${l.mediaType}</td><td>${bytes(l.size)}</td></tr>`)}
        </tbody>
        <tfoot><tr><th scope="row" colspan="3">Layers in all</th><td>${bytes((a.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0))}</td></tr></tfoot>
      </table></div>`}
    <h2>Referrers</h2>
    ${a.referrers.length === 0 ? html`<p>No signature, SBOM or other artifact refers to it.</p>` : html`<div class="scroll"><table>
      <thead><tr><th scope="col">Artifact type</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead>
      <tbody>${a.referrers.map((r) => html`<tr key=${r.digest}>
        <td class="wrap">${r.artifactType ?? '—'}</td>
        <td><a href=${link.artifact(a.repository, r.digest)}><code>${shortDigest(r.digest)}</code></a></td>
        <td>${bytes(r.size)}</td>
      </tr>`)}</tbody>
    </table></div>${a.moreReferrers ? html`<p>Only the first 100 are shown.</p>` : null}`}
    <h2>Annotations</h2>
    <${Annotations} of=${a.annotations} />
    <h2>Manifest</h2>
    <pre class="json" tabindex="0" aria-label="Manifest JSON">${JSON.stringify(a.manifest, null, 2)}</pre>`;
}

export function ArtifactView({ repository, reference }: { repository: string; reference: string }) {
  const loaded = useLoad(`artifact:${repository}:${reference}`, () => api<Artifact>('GET', `/repositories/${repository}/artifacts/${encodeURIComponent(reference)}`));
  const label = reference.includes(':') ? `@${shortDigest(reference)}` : `:${reference}`;
  return html`<section>
    <p class="crumbs"><a href=${link.project(projectOf(repository))}>${projectOf(repository)}</a> / <a href=${link.repository(repository)}>${repository}</a> /</p>
    <h1>${repository}${label}</h1>
    <${Show} loaded=${loaded}>${(a: Artifact) => html`<${Details} a=${a} reference=${reference} />`}<//>
  </section>`;
}
