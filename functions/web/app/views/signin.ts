// Signing in with a user name and password at the token endpoint (docs/auth.md); the password is
// sent once, in the request body, and kept nowhere.
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api.ts';
import { html } from '../html.ts';
import { ErrorNote } from '../widgets.ts';

export function SignInView({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    signIn(user, password).then(onSignedIn, (err: Error & { status?: number }) => {
      setBusy(false);
      setError(err.status === 401 ? new Error('Wrong user name or password.') : err);
    });
  };
  return html`<section class="narrow">
    <h1>Sign in</h1>
    <form onSubmit=${submit}>
      <label>User name <input name="username" autocomplete="username" required value=${user} onInput=${(e: Event) => setUser((e.target as HTMLInputElement).value)} /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} /></label>
      <button type="submit" disabled=${busy}>Sign in</button>
      <${ErrorNote} error=${error} />
    </form>
    <p>Robots and CI jobs do not sign in here: they use <code>docker login</code>.</p>
  </section>`;
}
