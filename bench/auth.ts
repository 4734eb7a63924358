// Token auth's cost (issue 15): what verifying a registry token costs per request, how fast the
// token endpoint issues tokens (a password login runs argon2id; a refresh only verifies and signs),
// and manifest GET throughput of `npm start` with auth on against the same server with auth off.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIdentityStore, IDENTITY_DB } from '../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, setMember } from '../functions/core/auth/admin.ts';
import { TokenService } from '../functions/core/auth/jwt.ts';
import { tokenKeysFrom } from '../functions/core/auth/token-keys.ts';
import { pushTinyImage } from '../test/support/tiny-image.ts';
import { startRegistry, type RunningRegistry } from '../test/support/registry.ts';
import { orderOf } from './scenarios.ts';
import { OCI_MANIFEST } from '../test/support/oci.ts';
import { parseWrk } from './manifest-load.ts';
import { run } from './proc.ts';
import { median, newFact, type Fact } from './rows.ts';

const PASSWORD = 'a bench password, long enough';
const REPO = 'bench/app';
const SCOPE = `repository:${REPO}:pull,push`;

/** Median microseconds of `f` over `n` calls. */
async function microseconds(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await f(i);
    times.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  return median(times);
}

/** Verification as the registry does it per request: a token seen for the first time, and one seen before (the process keeps verified tokens until they expire). */
async function verifyFacts(runs: number): Promise<Fact[]> {
  const first = newFact({ id: 'auth_verify_first', label: 'token verification, first use of a token (median of 3000)', unit: 'us', target: { max: 300, text: '<=300 us' } });
  const cached = newFact({ id: 'auth_verify_cached', label: 'token verification, a token seen before (median of 10000)', unit: 'us', target: { max: 300, text: '<=300 us' } });
  const tokens = new TokenService(tokenKeysFrom([randomBytes(32)]), { issuer: 'bench', service: 'bench', refreshTokenSeconds: 3600 });
  const grant = [{ type: 'repository' as const, name: REPO, actions: ['pull'] }];
  first.runs = [];
  cached.runs = [];
  for (let r = 0; r < runs; r++) {
    const issued: string[] = [];
    for (let i = 0; i < 3000; i++) issued.push(await tokens.issueAccess(`user${r}-${i}`, grant));
    first.runs.push(await microseconds(issued.length, (i) => tokens.verifyAccess(issued[i]!)));
    cached.runs.push(await microseconds(10_000, () => tokens.verifyAccess(issued[0]!)));
  }
  first.value = median(first.runs);
  cached.value = median(cached.runs);
  return [first, cached];
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}`;

/** The service name of the registry's challenge (as clients learn it). */
async function serviceOf(reg: RunningRegistry): Promise<string> {
  const challenge = (await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '';
  const m = /service="([^"]+)"/.exec(challenge);
  if (!m) throw new Error(`no service in the challenge ${JSON.stringify(challenge)}`);
  return m[1]!;
}

async function tokenFor(reg: RunningRegistry, service: string): Promise<{ token: string; refresh: string }> {
  const r = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${SCOPE}&offline_token=true`, { headers: { authorization: basic('dev') } });
  if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}: ${await r.text()}`);
  const body = (await r.json()) as { token: string; refresh_token?: string };
  if (!body.refresh_token) throw new Error('no refresh_token for offline_token=true');
  return { token: body.token, refresh: body.refresh_token };
}

/** Requests answered 200 per second, `concurrency` at a time for `seconds`. */
async function rate(seconds: number, concurrency: number, request: () => Promise<Response>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const r = await request();
      await r.arrayBuffer();
      if (r.status === 200) ok++;
      else failed++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failed > 0) throw new Error(`${failed} token requests failed`);
  return ok / ((Date.now() - started) / 1000);
}

/** A one-layer image tagged v1 in REPO, pushed with `auth` headers. */
async function pushImage(reg: RunningRegistry, auth: Record<string, string>): Promise<void> {
  const { put } = await pushTinyImage(reg.url, REPO, 'v1', auth);
  if (put.status !== 201) throw new Error(`manifest PUT answered ${put.status}: ${await put.text()}`);
}

async function wrkRps(reg: RunningRegistry, seconds: number, auth: Record<string, string>): Promise<number> {
  const headers = Object.entries({ accept: OCI_MANIFEST, ...auth }).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const r = await run('wrk', ['-t2', '-c32', `-d${seconds}s`, '--latency', ...headers, `${reg.url}/v2/${REPO}/manifests/v1`], { timeoutMs: (seconds + 30) * 1000 });
  const w = parseWrk(r.stdout);
  if (w.non2xx > 0) throw new Error(`${w.non2xx} of ${w.requests} manifest GETs were not 2xx`);
  return w.rps;
}

/**
 * Two `npm start` registries on the same machine, auth off and auth on (a user who is a developer
 * of the project), each with the same image pushed; wrk alternates between them.
 */
export async function authFacts(log: (m: string) => void, opts: { runs: number; wrkSeconds: number; tokenSeconds: number }): Promise<Fact[]> {
  const facts = await verifyFacts(opts.runs);
  const dir = await mkdtemp(join(tmpdir(), 'bench-auth-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await addUser(store, 'dev', PASSWORD, false);
  await createProject(store, 'bench', false);
  await setMember(store, 'bench', 'dev', 'developer');
  store.close();
  const off = await startRegistry({ env: { REGISTRY_AUTH: 'off' } });
  const on = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  try {
    const issue = newFact({ id: 'auth_token_password', label: `token endpoint, password logins (argon2id), 4 at a time, ${opts.tokenSeconds}s`, unit: 'tokens/s' });
    const refresh = newFact({ id: 'auth_token_refresh', label: `token endpoint, refresh-token grants, 16 at a time, ${opts.tokenSeconds}s`, unit: 'tokens/s' });
    const slowdown = newFact({ id: 'auth_manifest_slowdown', label: `manifest GET by tag, auth on vs off (wrk 32 conns, ${opts.wrkSeconds}s)`, unit: '% slower', target: { max: 10, text: '<=10%' } });
    const service = await serviceOf(on);
    const { token, refresh: refreshToken } = await tokenFor(on, service);
    const bearer = { authorization: `Bearer ${token}` };
    await pushImage(off, {});
    await pushImage(on, bearer);
    log('auth: token endpoint rates...');
    issue.runs = [];
    refresh.runs = [];
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service, scope: SCOPE, client_id: 'bench' }).toString();
    for (let r = 0; r < opts.runs; r++) {
      issue.runs.push(await rate(opts.tokenSeconds, 4, () => fetch(`${on.url}/token?service=${encodeURIComponent(service)}&scope=${SCOPE}`, { headers: { authorization: basic('dev') } })));
      refresh.runs.push(await rate(opts.tokenSeconds, 16, () => fetch(`${on.url}/token`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })));
    }
    issue.value = median(issue.runs);
    refresh.value = median(refresh.runs);
    log('auth: manifest GET, auth off and on, alternating...');
    // Warm both, then one wrk run of each per round, which goes first alternating round by round, so
    // drift in the machine's load and the order itself hit both alike.
    await wrkRps(off, 2, {});
    await wrkRps(on, 2, bearer);
    const offRps: number[] = [];
    const onRps: number[] = [];
    slowdown.runs = [];
    for (let r = 0; r < opts.runs; r++) {
      for (const side of orderOf(['off', 'on'] as const, 0, r)) {
        if (side === 'off') offRps.push(await wrkRps(off, opts.wrkSeconds, {}));
        else onRps.push(await wrkRps(on, opts.wrkSeconds, bearer));
      }
      slowdown.runs.push((1 - onRps[r]! / offRps[r]!) * 100);
    }
    slowdown.value = median(slowdown.runs);
    const faster = slowdown.runs.some((v) => v < 0) ? ' (a negative figure: auth on was faster in that round)' : '';
    const firsts = offRps.map((_, r) => orderOf(['off', 'on'], 0, r)[0]).join(', ');
    slowdown.notes.push(`req/s off ${offRps.map((v) => v.toFixed(0)).join(', ')}; on ${onRps.map((v) => v.toFixed(0)).join(', ')}; first in each round: ${firsts}${faster}`);
    return [...facts, issue, refresh, slowdown];
  } finally {
    await Promise.all([off.stop(), on.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}
