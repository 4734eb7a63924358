// Talking to the registry: the token endpoint (sign in, refresh), the management API (/api/v1/) and,
// for what it lacks (deleting a tag), the OCI API (/v2/). Same origin only; the token goes in an
// Authorization header, never a cookie, so no other site can make this browser call the API.
//
// Where the secrets live: the 5-minute access token in memory only; the refresh token in
// sessionStorage (this tab, until it closes), so a reload keeps the viewer signed in without keeping
// the password anywhere. Signing out forgets both.

export interface ApiError extends Error {
  status: number;
  code: string;
}

export interface Session {
  user: string;
  admin: boolean;
  /** Role per project (a system administrator is admin everywhere). */
  roles: Record<string, string>;
}

const STORE_KEY = 'registry.session';
const MANAGEMENT = 'registry:management:*';

let accessToken: string | undefined;
let refreshToken: string | undefined;

function apiError(status: number, code: string, message: string): ApiError {
  return Object.assign(new Error(message), { status, code });
}

/** `invalid request: a quota is …`: the management API's reason (and field) after the error's own message. */
function withReason(message: string, detail: unknown): string {
  const { field, reason } = (typeof detail === 'object' && detail !== null ? detail : {}) as { field?: unknown; reason?: unknown };
  if (typeof reason !== 'string') return message;
  return `${message}: ${typeof field === 'string' ? `${field} ` : ''}${reason}`;
}

async function failure(r: Response): Promise<ApiError> {
  const text = await r.text();
  try {
    const body = JSON.parse(text) as { errors?: { code: string; message: string; detail?: unknown }[]; error?: string; error_description?: string };
    const first = body.errors?.[0];
    if (first) return apiError(r.status, first.code, withReason(first.message, first.detail));
    if (body.error) return apiError(r.status, body.error, body.error_description ?? body.error);
  } catch {
    // Not JSON: the status says enough.
  }
  return apiError(r.status, `HTTP_${r.status}`, `${r.status} ${r.statusText}`);
}

async function tokenRequest(form: Record<string, string>): Promise<{ token: string; refresh_token?: string }> {
  // No `service`: the token endpoint takes its own when none is named.
  const body = new URLSearchParams(form);
  const r = await fetch('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  if (!r.ok) throw await failure(r);
  return (await r.json()) as { token: string; refresh_token?: string };
}

async function refresh(): Promise<void> {
  if (!refreshToken) throw apiError(401, 'UNAUTHORIZED', 'signed out');
  accessToken = (await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: MANAGEMENT })).token;
}

function forget(): void {
  accessToken = undefined;
  refreshToken = undefined;
  sessionStorage.removeItem(STORE_KEY);
}

/** A management API call (`path` below /api/v1); JSON in and out; a 401 of a stale token refreshes it once. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const send = (): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  };
  let r = await send();
  if (r.status === 401 && refreshToken) {
    await refresh();
    r = await send();
  }
  if (!r.ok) throw await failure(r);
  const text = await r.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function whoami(): Promise<Session> {
  const me = await api<{ name: string; admin: boolean; projects: { project: string; role: string }[] }>('GET', '/whoami');
  return { user: me.name, admin: me.admin, roles: Object.fromEntries(me.projects.map((p) => [p.project, p.role])) };
}

export async function signIn(username: string, password: string): Promise<Session> {
  const answer = await tokenRequest({ grant_type: 'password', username, password, scope: MANAGEMENT, access_type: 'offline' });
  accessToken = answer.token;
  refreshToken = answer.refresh_token;
  if (refreshToken) sessionStorage.setItem(STORE_KEY, refreshToken);
  return whoami();
}

/** The session this tab had before a reload, if its refresh token still works. */
export async function resume(): Promise<Session | undefined> {
  refreshToken = sessionStorage.getItem(STORE_KEY) ?? undefined;
  if (!refreshToken) return undefined;
  try {
    await refresh();
    return await whoami();
  } catch {
    forget();
    return undefined;
  }
}

export function signOut(): void {
  forget();
}

/** Deletes a tag through the OCI API, with a token for exactly that repository's delete action. */
export async function deleteTag(repository: string, tag: string): Promise<void> {
  if (!refreshToken) throw apiError(401, 'UNAUTHORIZED', 'sign in to delete');
  const { token } = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: `repository:${repository}:delete` });
  const r = await fetch(`/v2/${repository}/manifests/${encodeURIComponent(tag)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw await failure(r);
}
