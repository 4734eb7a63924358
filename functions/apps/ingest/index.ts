// The ingest service: the local server's HTTP layer (streaming bodies, idle and stalled connections,
// graceful stop) wired to the AWS adapters. Upload PATCH/PUT bodies of any size stream into S3
// multipart uploads while hashing, in bounded memory. Runs as a container on Fargate behind an ALB;
// `npm run start:aws` runs it as a child process.
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsDeps, createAwsRegistry, warnTokenKeysError } from '../../aws/deps.ts';
import { readAwsConfig } from '../../aws/config.ts';
import { ConfigError, EXIT_CONFIG } from '../../config/config-error.ts';
import { readIngestSettings } from './settings.ts';
import { awsRegistryHooks } from '../../aws/registry-hooks.ts';
import { startRegistryHttpServer } from '../../http/server.ts';
import { countCalls, type CallCounts } from '../../aws/call-counter.ts';
import { recordCalls, type CallRecorder } from '../../aws/call-recorder.ts';
import { countRequestBodies, countS3ObjectBytes, newComputeBytes, resetComputeBytes } from '../../aws/compute-bytes.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-ingest' });

async function main(): Promise<void> {
  const config = readAwsConfig(process.env);
  const { host, port, idleTimeoutSeconds, callCounts } = readIngestSettings(process.env);
  const deps = await createAwsDeps(config, {
    onTokenKeysError: warnTokenKeysError(logger),
  });
  // With call counts on, also the body bytes this process reads and moves to or from S3.
  const bytes = callCounts ? newComputeBytes() : undefined;
  if (bytes) countS3ObjectBytes(deps.s3, bytes);
  const plain = createAwsRegistry(deps, awsRegistryHooks(logger));
  const registry = bytes ? countRequestBodies(plain, bytes) : plain;
  // `start:aws` tests and benches count this process's AWS calls and body bytes (REGISTRY_CALL_COUNTS=on):
  // served as JSON on /healthz/calls (`?reset` clears them). Off in deployments.
  const counts: { dynamo: CallCounts; s3: CallCounts } | undefined =
    callCounts ? { dynamo: countCalls(deps.dynamo), s3: countCalls(deps.s3) } : undefined;
  const recorders: CallRecorder[] = callCounts ? [recordCalls(deps.dynamo), recordCalls(deps.s3)] : [];
  const server = await startRegistryHttpServer({
    host,
    port,
    idleTimeoutSeconds,
    registry,
    // The load balancer's health check: the process serves, and its stores were built.
    extraRoutes: [{
      matches: (path) => path.startsWith('/healthz'),
      serve: async (url, _req, res) => {
        if (counts && url.pathname === '/healthz/calls') {
          const of = (c: CallCounts) => ({ calls: { ...c.calls }, requests: { ...c.attempts } });
          const body = JSON.stringify({ dynamo: of(counts.dynamo), s3: of(counts.s3), records: recorders.flatMap((r) => r.records), bytes });
          if (url.searchParams.has('reset')) {
            for (const c of [...Object.values(counts), ...recorders]) c.reset();
            if (bytes) resetComputeBytes(bytes);
          }
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
          return undefined;
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' }).end('ok\n');
        return undefined;
      },
    }],
  });
  logger.info('listening', { url: server.url, pid: process.pid });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) console.error(`ingest: ${e.message}`);
  else logger.error('ingest failed to start', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(e instanceof ConfigError ? EXIT_CONFIG : 1);
});
