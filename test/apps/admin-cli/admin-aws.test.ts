// `npm run admin -- --aws --env <name>`: the same commands against a deployment's DynamoDB table
// (here DynamoDB Local, through the SDK's own AWS_ENDPOINT_URL_DYNAMODB), found from cdk.json; proxy
// projects' upstream credentials go to Secrets Manager (here a small stand-in speaking its JSON
// protocol on loopback, through AWS_ENDPOINT_URL_SECRETS_MANAGER: there is no emulator of it here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
let secretsManager: Server;
let secretsEndpoint: string;
/** What the Secrets Manager stand-in was sent: the operation (X-Amz-Target) and its JSON body. */
const smCalls: { target: string; body: Record<string, string> }[] = [];

beforeAll(async () => {
  // Secrets Manager's JSON protocol: CreateSecret answers the new secret's name and ARN; a name ending
  // in /denied is refused as the operator's credentials would be.
  secretsManager = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, string>;
      smCalls.push({ target: String(req.headers['x-amz-target']), body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (body.Name?.endsWith('/denied')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized to perform secretsmanager:CreateSecret' }));
        return;
      }
      res.end(JSON.stringify({ ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${body.Name}-AbC123`, Name: body.Name }));
    });
  });
  await new Promise<void>((r) => secretsManager.listen(0, '127.0.0.1', r));
  secretsEndpoint = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
  dynamo = await startStagingTable();
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
  await new Promise((r) => secretsManager?.close(r));
});

/** The CLI with `args`, `stdin` piped in, against DynamoDB Local; no data dir is touched. */
const admin = (args: string[], stdin = ''): Promise<CliResult> =>
  runNodeCli(CLI, args, { stdin, env: { ...adminAwsEnv(dynamo), AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint } });

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

  it("project create --proxy: the upstream password from stdin into the environment's Secrets Manager secret, never in argv or output; refused there, no project", async () => {
    const aws = ['--aws', '--env', 'staging', '--json'];
    const password = 'upstream-secret-42';
    const r = await admin(['project', 'create', 'hub', '--public', '--proxy', 'https://registry-1.docker.io', '--upstream-user', 'bot', '--upstream-password-stdin', ...aws], password);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'hub', public: true, proxy: { upstream: 'https://registry-1.docker.io', credentials: 'stored' } });
    for (const text of [r.out, r.err]) expect(text).not.toContain(password);
    const created = smCalls.filter((c) => c.target === 'secretsmanager.CreateSecret');
    expect(created.map((c) => c.body.Name)).toEqual(['oci-registry/staging/upstream/hub']);
    expect(JSON.parse(created[0]!.body.SecretString!)).toEqual({ username: 'bot', password });

    const refused = await admin(['project', 'create', 'denied', '--proxy', 'https://ghcr.io', '--upstream-user', 'bot', '--upstream-password-stdin', ...aws], password);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('secretsmanager:CreateSecret');
    expect(refused.err).not.toContain(password);
    const client = dynamo.client();
    try {
      const store = new DynamoIdentityStore(DynamoDBDocumentClient.from(client), 'oci-registry-staging');
      expect((await store.getProject('hub'))?.proxy).toMatchObject({ upstream: 'https://registry-1.docker.io', credentials: true });
      expect(await store.getProject('denied')).toBeUndefined();
    } finally {
      client.destroy();
    }
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
