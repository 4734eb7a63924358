// The API Lambda handler over a registry on the real local adapters (in-memory SQLite, files in a
// temp dir), with its Powertools logs and EMF metrics captured from stdout.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { vi } from 'vitest';
import { FsBlobStore } from '../../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../../functions/adapters/sqlite/sqlite-metadata.ts';
import { createApiHandler, type ApiHandler, type ApiHandlerOptions } from '../../../functions/apps/api-lambda/handler.ts';
import { awsRegistryHooks } from '../../../functions/aws/registry-hooks.ts';
import { allowAll } from '../../../functions/core/access.ts';
import type { BlobStore, MetadataStore } from '../../../functions/core/ports.ts';
import { createRegistry, type Registry } from '../../../functions/core/registry.ts';
import { TokenSigner } from '../../../functions/core/tokens.ts';
import { apiEvent, lambdaContext, type EventOptions } from './events.ts';
import { keepOutput } from '../../support/test-output.ts';

export interface LambdaFixture {
  handler: ApiHandler;
  /** Every JSON line written to stdout or stderr since the fixture started (logs and EMF documents). */
  lines(): Record<string, unknown>[];
  /** Raw stdout and stderr text since the fixture started. */
  stdout(): string;
  invoke(method: string, url: string, opts?: EventOptions): Promise<Result>;
  send(event: APIGatewayProxyEventV2): Promise<Result>;
  close(): Promise<void>;
}

export interface Result extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  bytes(): Buffer;
  json(): { errors?: { code: string; detail?: unknown }[] } & Record<string, unknown>;
}

export interface FixtureOptions extends ApiHandlerOptions {
  wrapMetadata?: (m: MetadataStore) => MetadataStore;
  wrapBlobs?: (b: BlobStore) => BlobStore;
  /** Replaces the registry factory (e.g. one that throws). */
  getRegistry?: (real: Registry) => () => Promise<Registry> | Registry;
}

export async function lambdaFixture(opts: FixtureOptions = {}): Promise<LambdaFixture> {
  let captured = '';
  // Powertools writes INFO (and EMF) to stdout, WARN and ERROR to stderr. Also kept to be shown if the test fails.
  const capture = (source: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      captured += text;
      keepOutput(source, text);
      return true;
    }) as typeof process.stdout.write;
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture('stdout')), vi.spyOn(process.stderr, 'write').mockImplementation(capture('stderr'))];
  const dir = await mkdtemp(join(tmpdir(), 'api-lambda-'));
  const metadata = new SqliteMetadataStore(':memory:');
  const signer = new TokenSigner(randomBytes(32));
  const blobs = new FsBlobStore(dir, signer);
  await blobs.init();
  const logger = opts.logger ?? new Logger({ serviceName: 'registry-api-test' });
  const metrics = opts.metrics ?? new Metrics({ namespace: 'OciRegistryTest', serviceName: 'registry-api-test' });
  const registry = createRegistry({
    metadata: opts.wrapMetadata ? opts.wrapMetadata(metadata) : metadata,
    blobs: opts.wrapBlobs ? opts.wrapBlobs(blobs) : blobs,
    authorizer: allowAll,
    uploadTokens: signer,
    ...awsRegistryHooks(logger, opts),
  });
  const handler = createApiHandler(opts.getRegistry ? opts.getRegistry(registry) : () => registry, { ...opts, logger, metrics });

  async function send(event: APIGatewayProxyEventV2): Promise<Result> {
    const raw = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    // What API Gateway would do with it: the result must survive JSON serialization.
    const r = JSON.parse(JSON.stringify(raw)) as APIGatewayProxyStructuredResultV2;
    const bytes = () => (r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8'));
    return {
      ...r,
      statusCode: r.statusCode ?? 200,
      headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
      bytes,
      json: () => JSON.parse(bytes().toString('utf8')) as ReturnType<Result['json']>,
    };
  }

  return {
    handler,
    stdout: () => captured,
    lines: () =>
      captured
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    send,
    invoke: (method, url, o) => send(apiEvent(method, url, o)),
    async close() {
      for (const spy of spies) spy.mockRestore();
      metadata.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
