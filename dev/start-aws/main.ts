// `npm run start:aws`: see start.ts. HOST and PORT as for `npm start`; REGISTRY_INGEST=off runs the
// deployment shape without the ingest service (uploads then go to S3 at the edge, or to the API).
import { ConfigError, EXIT_CONFIG } from '../../functions/apps/server/config.ts';
import { log } from '../../functions/http/log.ts';
import { startAwsLocal, type AwsLocal } from './start.ts';

function settings(env: NodeJS.ProcessEnv): { host: string; port: number; ingest: boolean } {
  const host = env.HOST ?? '127.0.0.1';
  const rawPort = env.PORT ?? '5000';
  const port = Number(rawPort);
  if (!/^\d{1,5}$/.test(rawPort) || port > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(rawPort)}: set PORT`);
  const ingest = env.REGISTRY_INGEST ?? 'on';
  if (ingest !== 'on' && ingest !== 'off') throw new ConfigError(`REGISTRY_INGEST must be on or off, got ${JSON.stringify(ingest)}`);
  return { host, port, ingest: ingest === 'on' };
}

let local: AwsLocal | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
    setTimeout(() => process.exit(1), 20_000).unref();
    void (local?.close() ?? Promise.resolve()).then(() => process.exit(0));
  });
}

try {
  local = await startAwsLocal(settings(process.env));
  log('info', 'listening', { url: local.url, pid: process.pid, mode: 'aws', ingest: local.ingest ? local.ingest.url : 'off' });
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`registry: ${e.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const code = (e as { code?: string }).code;
  process.stderr.write(`registry: ${code === 'EADDRINUSE' ? 'the port is in use: set PORT' : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
