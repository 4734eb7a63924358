// Retention configured with `npm run admin -- policy retention|protect` and applied by `npm run gc` on
// the data dir of a running `npm start`: the dry run's JSON and text name each tag, its rule and why;
// the real run removes those tags and frees what only they held; bad rules are refused with a message.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IDENTITY_DB, SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { createProject } from '../../../functions/core/auth/admin.ts';
import type { GcReport } from '../../../functions/core/gc/report.ts';
import { runNodeCli } from '../../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { pushTinyImage } from '../../support/tiny-image.ts';

const ADMIN_CLI = fileURLToPath(new URL('../../../functions/apps/admin-cli/main.ts', import.meta.url));
const GC_CLI = fileURLToPath(new URL('../../../functions/apps/gc-cli/main.ts', import.meta.url));
let dir: string;
let reg: RunningRegistry;

const env = () => ({ ...process.env, REGISTRY_DATA_DIR: dir });
async function cli(script: string, ...args: string[]): Promise<string> {
  const { code, out, err } = await runNodeCli(script, args, { env: env() });
  expect(code, err).toBe(0);
  return out;
}
const admin = async (...args: string[]): Promise<unknown> => JSON.parse(await cli(ADMIN_CLI, ...args, '--json')) as unknown;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retention-cli-'));
  const store = new SqliteIdentityStore(join(dir, IDENTITY_DB));
  await createProject(store, 'ret', false);
  store.close();
  reg = await startRegistry({ dataDir: dir });
}, 90_000);

afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('refuses a rule with no limit or two, a limit out of range, or patterns outside the project', async () => {
  for (const [args, message] of [
    [['ret', 'ret/*', '*'], 'exactly one of'],
    [['ret', 'ret/*', '*', '--keep', '2', '--older-than', '30d'], 'exactly one of'],
    [['ret', 'ret/*', '*', '--keep', '0'], 'from 1 to'],
    [['ret', 'ret/*', '*', '--not-pulled', 'a month'], 'whole days'],
    [['ret', 'other/*', '*', '--keep', '1'], 'outside project ret'],
  ] as const) {
    const { code, err } = await runNodeCli(ADMIN_CLI, ['policy', 'retention', 'add', ...args], { env: env() });
    expect(code, args.join(' ')).not.toBe(0);
    expect(err).toContain(message);
  }
});

it('a dry run lists each tag a rule would remove and why; the real run removes them and frees their bytes', async () => {
  expect(await admin('policy', 'retention', 'add', 'ret', 'ret/*', 'pr-*', '--keep', '1')).toEqual({
    project: 'ret', retention: [{ repositories: 'ret/*', tags: 'pr-*', keep: 1 }], retentionProtect: [],
  });
  await admin('policy', 'retention', 'add', 'ret', 'ret/*', 'nightly-*', '--not-pulled', '30d');
  await admin('policy', 'protect', 'add', 'ret', 'ret/app', 'pr-keep');
  expect(await admin('policy', 'show', 'ret')).toEqual({
    project: 'ret', immutableTags: [],
    retention: [{ repositories: 'ret/*', tags: 'pr-*', keep: 1 }, { repositories: 'ret/*', tags: 'nightly-*', notPulledDays: 30 }],
    retentionProtect: [{ repositories: 'ret/app', tags: 'pr-keep' }],
    quotaBytes: null, usedBytes: 0, blobs: 0,
  });
  for (const tag of ['pr-1', 'pr-2', 'pr-keep', 'pr-3', 'nightly-1']) {
    expect((await pushTinyImage(reg.url, 'ret/app', tag)).put.status).toBe(201);
    await new Promise((r) => setTimeout(r, 5));
  }

  const dry = JSON.parse(await cli(GC_CLI, '--dry-run', '--json')) as GcReport;
  const tags = dry.actions.filter((a) => a.kind === 'tag');
  expect(tags.map((a) => a.tag).sort()).toEqual(['pr-1', 'pr-2']);
  expect(tags[0]).toMatchObject({ action: 'delete', repo: 'ret/app', rule: 'keep 1 of ret/*:pr-*' });
  expect(tags[0]!.reason).toMatch(/^not among the 1 most recent tags matching pr-\*/);
  const text = await cli(GC_CLI, '--dry-run');
  expect(text).toContain('would delete tag ret/app:pr-1 (was sha256:');
  expect(text).toContain('by rule keep 1 of ret/*:pr-*: not among the 1 most recent');

  const real = JSON.parse(await cli(GC_CLI, '--grace', '0', '--untagged', '0', '--json')) as GcReport;
  expect(real.counts['delete.tag']).toBe(2);
  expect(real.counts['delete.manifest']).toBe(2);
  expect(real.bytesFreed).toBeGreaterThanOrEqual(2 * 2048);
  for (const [tag, status] of [['pr-1', 404], ['pr-2', 404], ['pr-3', 200], ['pr-keep', 200], ['nightly-1', 200]] as const) {
    expect((await fetch(`${reg.url}/v2/ret/app/manifests/${tag}`)).status, tag).toBe(status);
  }

  expect(await admin('policy', 'retention', 'remove', 'ret', 'ret/*', 'pr-*', '--keep', '1')).toMatchObject({ retention: [{ tags: 'nightly-*', notPulledDays: 30 }] });
  const { code, err } = await runNodeCli(ADMIN_CLI, ['policy', 'protect', 'remove', 'ret', 'ret/app', 'nope'], { env: env() });
  expect(code).not.toBe(0);
  expect(err).toContain('has no protect rule ret/app:nope');
});
