// The single-page interface: a header (search, sign in/out) and the view the URL's hash names.
// Routes live in the hash (#/r/team/app), so the server serves one page at `/` and no path of the
// page can ever collide with the registry's own (/v2/, /api/v1/, /token).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { resume, signOut, type Session } from './api.ts';
import { link } from './format.ts';
import { html } from './html.ts';
import { ArtifactView } from './views/artifact.ts';
import { AuditView } from './views/audit.ts';
import { MembersView } from './views/members.ts';
import { PoliciesView } from './views/policies.ts';
import { ProjectView } from './views/project.ts';
import { ProjectsView } from './views/projects.ts';
import { RepositoryView } from './views/repository.ts';
import { RobotsView } from './views/robots.ts';
import { SearchView } from './views/search.ts';
import { SignInView } from './views/signin.ts';

/** The view's path from the URL's fragment; a malformed escape (`#/r/%zz`) leads to the projects view. */
function hash(): string {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  } catch {
    return '/';
  }
}

function route(path: string, session: Session | undefined, signedIn: (s: Session) => void) {
  let m: RegExpExecArray | null;
  if (path === '/signin') return html`<${SignInView} onSignedIn=${signedIn} />`;
  if (path === '/audit') return html`<${AuditView} session=${session} />`;
  if ((m = /^\/search\?q=(.*)$/.exec(path))) return html`<${SearchView} q=${m[1]} />`;
  if ((m = /^\/p\/([^/]+)\/(members|robots|audit|policies)$/.exec(path))) {
    const view = { members: MembersView, robots: RobotsView, audit: AuditView, policies: PoliciesView }[m[2] as 'members' | 'robots' | 'audit' | 'policies'];
    return html`<${view} project=${m[1]} session=${session} />`;
  }
  if ((m = /^\/p\/([^/]+)$/.exec(path))) return html`<${ProjectView} name=${m[1]} session=${session} />`;
  if ((m = /^\/r\/(.+)$/.exec(path))) return html`<${RepositoryView} name=${m[1]} session=${session} />`;
  // `repo@sha256:…` or `repo:tag` (a repository name holds neither `@` nor `:`).
  if ((m = /^\/a\/([^@:]+)(?:@(.+)|:([^:]+))$/.exec(path))) return html`<${ArtifactView} repository=${m[1]} reference=${m[2] ?? m[3]} />`;
  return html`<${ProjectsView} session=${session} />`;
}

function Header({ session, onSignOut }: { session: Session | undefined; onSignOut: () => void }) {
  const [q, setQ] = useState('');
  const search = (e: Event) => {
    e.preventDefault();
    if (q.trim()) location.hash = link.search(q.trim());
  };
  return html`<header>
    <a class="brand" href="#/">Registry</a>
    <form role="search" onSubmit=${search}>
      <label for="q" class="sr-only">Search repositories</label>
      <input id="q" type="search" placeholder="Search repositories" value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} />
      <button type="submit">Search</button>
    </form>
    <nav aria-label="Account">
      ${session?.admin ? html`<a href="#/audit">Audit log</a>` : null}
      ${session ? html`<span class="who">${session.user}</span> <button type="button" onClick=${onSignOut}>Sign out</button>` : html`<a href="#/signin">Sign in</a>`}
    </nav>
  </header>`;
}

function App() {
  const [path, setPath] = useState(hash());
  const [session, setSession] = useState<Session>();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const onHash = () => {
      setPath(hash());
      // Focus goes to the new view's heading, so keyboard and screen reader users land on it.
      requestAnimationFrame(() => {
        const heading = document.querySelector<HTMLElement>('main h1');
        heading?.setAttribute('tabindex', '-1');
        heading?.focus();
      });
    };
    addEventListener('hashchange', onHash);
    resume().then(setSession).finally(() => setReady(true));
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const signedIn = (s: Session) => {
    setSession(s);
    location.hash = '#/';
  };
  const out = () => {
    signOut();
    setSession(undefined);
    location.hash = '#/';
  };
  return html`<${Header} session=${session} onSignOut=${out} />
    <main key=${session?.user ?? ''}>${ready ? route(path, session, signedIn) : html`<p aria-busy="true">Loading…</p>`}</main>`;
}

const root = document.getElementById('app')!;
// The page's static "Loading…" goes: Preact renders next to what it did not render itself.
root.textContent = '';
render(html`<${App} />`, root);
