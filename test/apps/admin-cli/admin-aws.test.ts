// `npm run admin -- --aws --env <name>`: the same commands against a deployment's DynamoDB table
// (here DynamoDB Local, through the SDK's own AWS_ENDPOINT_URL_DYNAMODB), found from cdk.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../../../functions/adapters/dynamodb/dynamo-identity.ts';
import { verifyPassword } from '../../../functions/core/auth/passwords.ts';
import { awsTarget } from '../../../functions/apps/admin-cli/stores.ts';
import { parseEnvironments, ENVIRONMENTS_CONTEXT_KEY } from '../../../infra/config.ts';
import { tableName } from '../../../infra/names.ts';
import { cdkJson, ROOT } from '../../infra/synth.ts';
import type { DynamoLocal } from '../../support/dynamodb-local.ts';
import { adminAwsEnv, runNodeCli, startStagingTable, type CliResult } from '../../support/cli.ts';

const CLI = join(import.meta.dirname, '..', '..', '..', 'functions', 'apps', 'admin-cli', 'main.ts');
const PASSWORD = 'correct horse battery staple';
let dynamo: DynamoLocal;

beforeAll(async () => {
  dynamo = await startStagingTable();
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

/** The CLI with `args`, `stdin` piped in, against DynamoDB Local; no data dir is touched. */
const admin = (args: string[], stdin = ''): Promise<CliResult> =>
  runNodeCli(CLI, args, { stdin, env: adminAwsEnv(dynamo) });

describe('npm run admin -- --aws --env <name>', () => {
  it("finds every cdk.json environment's table and region as the CDK app names them", () => {
    for (const config of parseEnvironments(cdkJson().context[ENVIRONMENTS_CONTEXT_KEY], undefined, ROOT)) {
      expect(awsTarget(ROOT, config.name)).toEqual({ table: tableName(config), region: config.region });
    }
  });

  it('creates a user (password from stdin), a project, a membership and a robot in the table; the password verifies', async () => {
    const aws = ['--aws', '--env', 'staging', '--json'];
    const user = await admin(['user', 'add', 'alice', '--admin', ...aws], PASSWORD);
    expect(user.code, user.err).toBe(0);
    expect(JSON.parse(user.out)).toMatchObject({ name: 'alice', admin: true });
    expect(user.out).not.toContain(PASSWORD);
    for (const args of [['project', 'create', 'team'], ['member', 'add', 'team', 'alice', 'maintainer']]) expect((await admin([...args, ...aws])).code).toBe(0);
    const robot = await admin(['robot', 'create', 'team', 'ci', '--actions', 'pull,push', ...aws]);
    expect(robot.code, robot.err).toBe(0);
    expect(JSON.parse(robot.out)).toMatchObject({ name: 'robot$team+ci', secret: expect.any(String) });
    const client = dynamo.client();
    try {
      const store = new DynamoIdentityStore(DynamoDBDocumentClient.from(client), 'oci-registry-staging');
      const stored = await store.getUser('alice');
      expect(stored?.admin).toBe(true);
      expect(await verifyPassword(PASSWORD, stored!.passwordHash)).toBe(true);
      expect(await store.getRole('team', 'alice')).toBe('maintainer');
      expect((await store.getRobot('robot$team+ci'))?.actions).toEqual(['pull', 'push']);
    } finally {
      client.destroy();
    }
    const list = await admin(['user', 'list', ...aws]);
    expect(JSON.parse(list.out)).toMatchObject({ users: [expect.objectContaining({ name: 'alice' })] });
  });

  it("a visibility change also purges the project from the deployment's CDN; when that fails, the output says so and how to do it", async () => {
    const aws = ['--aws', '--env', 'staging', '--json'];
    expect((await admin(['project', 'create', 'vis', '--public', ...aws])).code).toBe(0);
    const r = await admin(['project', 'visibility', 'vis', 'private', ...aws]);
    expect(r.code, r.err).toBe(0);
    // CloudFront is not reachable here (its endpoint points at a closed port).
    expect(JSON.parse(r.out)).toMatchObject({ name: 'vis', public: false, cdn: { purged: false, error: expect.any(String), fix: expect.stringContaining("--paths '/v2/vis/*'") } });
  });

  it("audit list reads the deployment's trail: the CLI's own changes, by project", async () => {
    const aws = ['--aws', '--env', 'staging', '--json'];
    expect((await admin(['project', 'create', 'audited', ...aws])).code).toBe(0);
    const r = await admin(['audit', 'list', '--project', 'audited', ...aws]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ entries: [expect.objectContaining({ action: 'admin.project.create', project: 'audited', target: 'audited', actor: expect.stringMatching(/^cli:/) })] });
    const all = JSON.parse((await admin(['audit', 'list', ...aws])).out) as { entries: { action: string }[] };
    expect(all.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['admin.user.add', 'admin.robot.create', 'admin.project.create']));
  });

  it('refuses --aws without --env, an environment cdk.json does not name, and --env without --aws (exit 64)', async () => {
    for (const [args, message] of [
      [['user', 'list', '--aws'], /--aws needs --env/],
      [['user', 'list', '--aws', '--env', 'nowhere'], /cdk\.json names no environment "nowhere" \(known: dev, staging, prod\)/],
      [['user', 'list', '--env', 'staging'], /--env and --region go with --aws/],
    ] as const) {
      const r = await admin([...args]);
      expect(r.code).toBe(64);
      expect(r.err).toMatch(message);
    }
  });
});
