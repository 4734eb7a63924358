// `npm run admin -- audit list`: the CLI's own changes are in the trail (as `cli:<os user>` from this
// host), read back newest first, by project and since a time; a malformed --since or --limit is a
// usage error (exit 64). Against the data dir of `npm start` (SQLite).
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { AuthenticationError, byPassword } from '../../../functions/core/auth/authenticate.ts';
import { runNodeCli, type CliResult } from '../../support/cli.ts';

const CLI = join(import.meta.dirname, '..', '..', '..', 'functions', 'apps', 'admin-cli', 'main.ts');
const PASSWORD = 'correct horse battery staple';
let dir: string;

const admin = (args: string[], stdin = ''): Promise<CliResult> => runNodeCli(CLI, args, { stdin, env: { ...process.env, REGISTRY_DATA_DIR: dir } });
type Listed = { entries: { time: string; action: string; actor: string; address: string; project: string | null; target?: string; detail?: Record<string, unknown> }[] };
const list = async (...args: string[]): Promise<Listed> => {
  const r = await admin(['audit', 'list', '--json', ...args]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Listed;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-audit-'));
  for (const [args, stdin] of [
    [['user', 'add', 'alice'], PASSWORD],
    [['project', 'create', 'team']],
    [['member', 'add', 'team', 'alice', 'developer']],
    [['robot', 'create', 'team', 'ci', '--actions', 'pull,push', '--expires', 'never']],
    [['user', 'disable', 'alice']],
    [['project', 'create', 'other', '--public']],
  ] as const) {
    const r = await admin([...args], stdin);
    expect(r.code, r.err).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run admin -- audit list', () => {
  it('lists every change the CLI made, newest first, by whom and from where', async () => {
    const { entries } = await list();
    expect(entries.map((e) => [e.action, e.project, e.target])).toEqual([
      ['admin.project.create', 'other', 'other'],
      ['admin.user.disable', null, 'alice'],
      ['admin.robot.create', 'team', 'robot$team+ci'],
      ['admin.member.set', 'team', 'alice'],
      ['admin.project.create', 'team', 'team'],
      ['admin.user.add', null, 'alice'],
    ]);
    for (const e of entries) expect(e).toMatchObject({ actor: `cli:${userInfo().username}`, address: hostname() });
    expect(entries[2]!.detail).toEqual({ actions: 'pull,push', expiresAt: 'never' });
    expect(JSON.stringify(entries)).not.toContain(PASSWORD);
  });

  it('--project keeps one project; --since a time or a duration; --limit the newest N; plain output one line per entry', async () => {
    expect((await list('--project', 'team')).entries.map((e) => e.action)).toEqual(['admin.robot.create', 'admin.member.set', 'admin.project.create']);
    expect((await list('--since', '2999-01-01')).entries).toEqual([]);
    expect((await list('--since', '1h')).entries).toHaveLength(6);
    expect((await list('--limit', '2')).entries.map((e) => e.action)).toEqual(['admin.project.create', 'admin.user.disable']);
    const plain = await admin(['audit', 'list', '--project', 'other']);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/entries:\n {2}- time="[^"]+" action="admin.project.create"/);
  });

  it('trust rules added and removed, access tokens created and revoked: each an entry, with no secret', async () => {
    const run = async (...args: string[]): Promise<Record<string, unknown>> => {
      const r = await admin([...args, '--json']);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as Record<string, unknown>;
    };
    const rule = await run('trust', 'add', 'team', '--github', 'acme/app', '--owner-id', '101', '--repository-id', '202', '--ref', 'main', '--actions', 'pull,push');
    await run('trust', 'remove', 'team', String(rule.id));
    const created = await run('token', 'create', 'alice', 'laptop', '--expires', '30d');
    await run('token', 'revoke', 'alice', 'laptop');
    const newest = (await list('--limit', '4')).entries;
    expect(newest.map((e) => [e.action, e.project, e.target])).toEqual([
      ['admin.token.revoke', null, 'alice/laptop'],
      ['admin.token.create', null, 'alice/laptop'],
      ['admin.trust.remove', 'team', rule.id],
      ['admin.trust.add', 'team', rule.id],
    ]);
    expect(newest[3]!.detail).toMatchObject({ repository: 'acme/app', ownerId: '101', repositoryId: '202', ref: 'refs/heads/main', actions: 'pull,push' });
    expect(newest[1]!.detail).toEqual({ expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const secret = Object.values(created).find((v) => typeof v === 'string' && v.startsWith('pat.')) as string;
    expect(secret).toBeDefined();
    expect(JSON.stringify(newest)).not.toContain(secret.split('.')[2]!);
  });

  it('user passwd and robot rotate change what signs in, each an entry; robot list shows no secret', async () => {
    const NEW_PASSWORD = 'another long enough password';
    const passwd = await admin(['user', 'passwd', 'alice', '--json'], NEW_PASSWORD);
    expect(passwd.code, passwd.err).toBe(0);
    const rotated = await admin(['robot', 'rotate', 'robot$team+ci', '--json']);
    expect(rotated.code, rotated.err).toBe(0);
    const secret = String((JSON.parse(rotated.out) as { secret: string }).secret);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = await admin(['robot', 'list', 'team', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect((JSON.parse(listed.out) as { robots: { name: string }[] }).robots.map((r) => r.name)).toEqual(['robot$team+ci']);
    expect(listed.out).not.toContain(secret);
    const store = new SqliteIdentityStore(join(dir, 'identity.db'));
    try {
      await expect(byPassword(store, 'alice', PASSWORD)).rejects.toBeInstanceOf(AuthenticationError);
      expect((await byPassword(store, 'robot$team+ci', secret)).kind).toBe('robot');
    } finally {
      store.close();
    }
    expect((await list('--limit', '2')).entries.map((e) => [e.action, e.target])).toEqual([['admin.robot.rotate', 'robot$team+ci'], ['admin.user.passwd', 'alice']]);
    expect(JSON.stringify((await list()).entries)).not.toContain(NEW_PASSWORD);
  });

  it('a malformed --since or --limit is a usage error (exit 64)', async () => {
    for (const args of [['--since', 'yesterday'], ['--since', '5y'], ['--limit', '0'], ['--limit', 'lots']]) {
      const r = await admin(['audit', 'list', ...args]);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.err).toMatch(/--since|--limit/);
    }
  });
});
