// Tag immutability (issue 16, item 5) on `npm start` with auth on, the rule set with
// `npm run admin -- policy immutable`: a PUT over an immutable tag with another digest is refused
// with 403 DENIED naming the rule, the same digest again is accepted, other tags and repositories
// are not held, and removing the rule lets the tag move again. (Both metadata stores hold the rule
// atomically: test/contract/immutable-tags.contract-part.ts.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, setMember } from '../../../functions/core/auth/admin.ts';
import { TAG_RULES_SECONDS } from '../../../functions/core/tag-immutability.ts';
import { runNodeCli } from '../../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { pushTinyImage } from '../../support/tiny-image.ts';

const ADMIN_CLI = fileURLToPath(new URL('../../../functions/apps/admin-cli/main.ts', import.meta.url));
const PASSWORD = 'correct horse battery staple';
let dir: string;
let reg: RunningRegistry;
let auth: Record<string, string>;

async function admin(...args: string[]): Promise<unknown> {
  const { code, out, err } = await runNodeCli(ADMIN_CLI, [...args, '--json'], { env: { ...process.env, REGISTRY_DATA_DIR: dir } });
  expect(code, err).toBe(0);
  return JSON.parse(out) as unknown;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'immutable-tags-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await addUser(store, 'dev', PASSWORD, false);
  await createProject(store, 'team', false);
  await setMember(store, 'team', 'dev', 'maintainer');
  store.close();
  // The rule is in place before the registry reads the project (it keeps rules TAG_RULES_SECONDS).
  expect(await admin('policy', 'immutable', 'add', 'team', 'team/app*', 'v*')).toEqual({ project: 'team', immutableTags: [{ repositories: 'team/app*', tags: 'v*' }] });
  reg = await startRegistry({ dataDir: dir, env: { REGISTRY_AUTH: 'on' } });
  const challenge = (await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '';
  const service = /service="([^"]+)"/.exec(challenge)![1]!;
  const basic = `Basic ${Buffer.from(`dev:${PASSWORD}`).toString('base64')}`;
  const scope = ['team/app', 'team/other'].map((r) => `scope=repository:${r}:pull,push`).join('&');
  const t = await fetch(`${reg.url}/token?service=${encodeURIComponent(service)}&${scope}`, { headers: { authorization: basic } });
  auth = { authorization: `Bearer ${((await t.json()) as { token: string }).token}` };
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('an immutable tag refuses another digest (403 DENIED naming the rule), takes the same one again; other tags and repositories move', { timeout: 60_000 }, async () => {
  const { image: first, put } = await pushTinyImage(reg.url, 'team/app', 'v1', auth);
  expect(put.status).toBe(201);
  expect((await pushTinyImage(reg.url, 'team/app', 'v1', auth, first)).put.status).toBe(201);

  const moved = await pushTinyImage(reg.url, 'team/app', 'v1', auth);
  expect(moved.put.status).toBe(403);
  const body = (await moved.put.json()) as { errors: { code: string; message: string; detail: { tag: string; current: string; rule: string } }[] };
  expect(body.errors[0]).toMatchObject({ code: 'DENIED', detail: { tag: 'v1', current: first.digest, rule: 'team/app*:v*' } });
  expect(body.errors[0]!.message).toContain('team/app*:v*');
  const now = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { method: 'HEAD', headers: { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(now.headers.get('docker-content-digest')).toBe(first.digest);

  // Not covered by the rule: a tag that does not match, a repository that does not match.
  expect((await pushTinyImage(reg.url, 'team/app', 'latest', auth)).put.status).toBe(201);
  expect((await pushTinyImage(reg.url, 'team/app', 'latest', auth)).put.status).toBe(201);
  expect((await pushTinyImage(reg.url, 'team/other', 'v1', auth)).put.status).toBe(201);
  expect((await pushTinyImage(reg.url, 'team/other', 'v1', auth)).put.status).toBe(201);

  // The rule removed: the tag moves once the registry has read the project again (within TAG_RULES_SECONDS).
  expect(await admin('policy', 'immutable', 'remove', 'team', 'team/app*', 'v*')).toEqual({ project: 'team', immutableTags: [] });
  const removed = Date.now();
  let status = 0;
  while (status !== 201 && Date.now() - removed < (TAG_RULES_SECONDS + 5) * 1000) {
    status = (await pushTinyImage(reg.url, 'team/app', 'v1', auth)).put.status;
    if (status !== 201) await new Promise((r) => setTimeout(r, 250));
  }
  expect(status).toBe(201);
});

it('the admin CLI refuses a rule outside the project and shows the policy', async () => {
  const { code, err } = await runNodeCli(ADMIN_CLI, ['policy', 'immutable', 'add', 'team', 'other/*', 'v*'], { env: { ...process.env, REGISTRY_DATA_DIR: dir } });
  expect(code).not.toBe(0);
  expect(err).toContain('outside project team');
  expect(await admin('policy', 'show', 'team')).toMatchObject({ project: 'team', immutableTags: [], retention: [], retentionProtect: [] });
});
