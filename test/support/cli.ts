// Runs a Node entry point (e.g. the admin CLI) as a child process with `stdin` piped in, and
// collects what it printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTable } from '../../functions/adapters/dynamodb/table.ts';
import { startDynamoLocal, type DynamoLocal } from './dynamodb-local.ts';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export async function runNodeCli(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [script, ...args], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(opts.stdin ?? '');
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out, err };
}

export const ADMIN_CLI = join(import.meta.dirname, '..', '..', 'functions', 'apps', 'admin-cli', 'main.ts');

/** `npm run admin -- ... --json` on a data dir, `stdin` piped in: the parsed output (an error if it failed). */
export async function adminJson(dataDir: string, args: string[], stdin = ''): Promise<Record<string, unknown>> {
  const { code, out, err } = await runNodeCli(ADMIN_CLI, [...args, '--json'], { stdin, env: { ...process.env, REGISTRY_DATA_DIR: dataDir } });
  if (code !== 0) throw new Error(`admin ${args.join(' ')} exited ${code}: ${err}`);
  return JSON.parse(out) as Record<string, unknown>;
}

/** The table of cdk.json's `staging` environment, as `npm run admin -- --aws --env staging` finds it. */
export const STAGING_TABLE = 'oci-registry-staging';

/** DynamoDB Local with the staging table made, for the admin CLI's `--aws` tests. */
export async function startStagingTable(): Promise<DynamoLocal> {
  const dynamo = await startDynamoLocal();
  const client = dynamo.client();
  await createTable(client, STAGING_TABLE);
  client.destroy();
  return dynamo;
}

/** The environment of `npm run admin -- --aws` against DynamoDB Local: no data dir, no real AWS. */
export const adminAwsEnv = (dynamo: DynamoLocal): NodeJS.ProcessEnv => ({
  ...process.env, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
  REGISTRY_DATA_DIR: '/nonexistent/never-used', AWS_ENDPOINT_URL_CLOUDFRONT: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1',
});
