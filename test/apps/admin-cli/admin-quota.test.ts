// `npm run admin -- policy quota <project> <size|none>` and the usage in `project list` and
// `policy show`, against the data dir of `npm start` (SQLite: identities, and the registry's own
// registry.db for the usage) and with `--aws --env` against a deployment's table (DynamoDB Local).
// A malformed size is a failure with a message, a quota on a proxy project or an unknown one too;
// each change is an audit entry.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { parseSize } from '../../../functions/core/auth/quota-admin.ts';
import type { MetadataStore } from '../../../functions/core/ports.ts';
import type { DynamoLocal } from '../../support/dynamodb-local.ts';
import { adminAwsEnv, runNodeCli, startStagingTable, STAGING_TABLE, type CliResult } from '../../support/cli.ts';

const CLI = join(import.meta.dirname, '..', '..', '..', 'functions', 'apps', 'admin-cli', 'main.ts');
const blob = (n: number, size: number) => ({ digest: `sha256:${String(n).padStart(64, '0')}`, size, location: `blobs/${n}`, createdAt: 1 });

/** Two repositories of `team` linking blob 1 (counted once) and one linking blob 2. */
async function seedLinks(metadata: MetadataStore): Promise<void> {
  for (const [n, size] of [[1, 3000], [2, 1000]] as const) await metadata.putBlob(blob(n, size));
  await metadata.linkBlob('team/a', blob(1, 3000));
  await metadata.linkBlob('team/b', blob(1, 3000));
  await metadata.linkBlob('team/b', blob(2, 1000));
}

/** `proxy`: proxy projects can be made there (with --aws: not yet). */
function quotaCommands(name: string, admin: (args: string[]) => Promise<CliResult>, seed: () => Promise<void>, proxy: boolean): void {
  describe(`npm run admin -- policy quota (${name})`, () => {
    const json = async (...args: string[]) => {
      const r = await admin([...args, '--json']);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as Record<string, unknown>;
    };
    beforeAll(async () => {
      for (const args of [['project', 'create', 'team'], ['project', 'create', 'empty'], ...(proxy ? [['project', 'create', 'hub', '--proxy', 'https://registry-1.docker.io']] : [])]) {
        const r = await admin(args);
        expect(r.code, r.err).toBe(0);
      }
      await seed();
    }, 60_000);

    it('sets a quota in bytes or with a unit, shows it with the usage (a blob two repositories link counts once), and removes it', async () => {
      expect(await json('policy', 'quota', 'team', '10KiB')).toEqual({ project: 'team', quotaBytes: 10_240, usedBytes: 4000, blobs: 2 });
      expect(await json('policy', 'show', 'team')).toMatchObject({ project: 'team', quotaBytes: 10_240, usedBytes: 4000, blobs: 2 });
      const { projects } = await json('project', 'list') as { projects: Record<string, unknown>[] };
      expect(projects.find((p) => p.name === 'team')).toMatchObject({ quotaBytes: 10_240, usedBytes: 4000, blobs: 2 });
      expect(projects.find((p) => p.name === 'empty')).toMatchObject({ quotaBytes: null, usedBytes: 0, blobs: 0 });
      expect(await json('policy', 'quota', 'empty', '5000')).toMatchObject({ quotaBytes: 5000 });
      expect(await json('policy', 'quota', 'empty', 'none')).toEqual({ project: 'empty', quotaBytes: null, usedBytes: 0, blobs: 0 });
      const audit = await json('audit', 'list', '--project', 'team') as { entries: { action: string; detail?: Record<string, unknown> }[] };
      expect(audit.entries.find((e) => e.action === 'admin.policy.quota')?.detail).toEqual({ quotaBytes: 10_240 });
    });

    it('refuses a malformed size, a zero quota, an unknown project and a proxy project (its cache would fail pulls)', async () => {
      for (const [args, message] of [
        [['team', '10 parsecs'], 'is not a size'],
        [['team', '0'], 'a quota is a whole number of bytes from 1'],
        [['nosuch', '1G'], 'no project nosuch'],
        ...(proxy ? [[['hub', '1G'], 'is a proxy project']] as const : []),
      ] as const) {
        const r = await admin(['policy', 'quota', ...args]);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.err).toContain(message);
      }
      const usage = await admin(['policy', 'quota', 'team']);
      expect(usage.code).toBe(64);
      expect((await json('policy', 'show', 'team')).quotaBytes).toBe(10_240);
    });
  });
}

describe('on the data dir of npm start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'admin-quota-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  quotaCommands('SQLite', (args) => runNodeCli(CLI, args, { env: { ...process.env, REGISTRY_DATA_DIR: dir } }), async () => {
    const metadata = new SqliteMetadataStore(join(dir, 'registry.db'));
    try {
      await seedLinks(metadata);
    } finally {
      metadata.close();
    }
  }, true);
});

describe('with --aws --env (DynamoDB Local)', () => {
  let dynamo: DynamoLocal;
  beforeAll(async () => {
    dynamo = await startStagingTable();
  }, 90_000);
  afterAll(async () => dynamo?.stop());
  quotaCommands('DynamoDB', (args) => runNodeCli(CLI, [...args, '--aws', '--env', 'staging'], { env: adminAwsEnv(dynamo) }), async () => {
    const client = dynamo.client();
    try {
      await seedLinks(new DynamoMetadataStore({ client, tableName: STAGING_TABLE }));
    } finally {
      client.destroy();
    }
  }, false);
});

it('reads sizes as people write them: binary K/M/G/T and KiB..., decimal KB..., plain bytes', () => {
  expect([parseSize('1048576'), parseSize('1K'), parseSize('1.5 GiB'), parseSize('500MB'), parseSize('2t'), parseSize('3 b')]).toEqual([1_048_576, 1024, 1.5 * 1024 ** 3, 500_000_000, 2 * 1024 ** 4, 3]);
});
