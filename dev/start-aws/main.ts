// `npm run start:aws`: see start.ts. HOST and PORT as for `npm start`; REGISTRY_INGEST=off runs the
// deployment shape without the ingest service (uploads then go to S3 at the edge, or to the API);
// REGISTRY_EDGE_UPLOADS=off is the deployment switch `edgeUploads` (no PUT straight into S3);
// REGISTRY_PROXY_MIRROR names the proxy project dockerd's `registry-mirrors` paths map into.
import { ConfigError, EXIT_CONFIG } from '../../functions/config/config-error.ts';
import { choiceSetting, intSetting, optionalSetting, textSetting, type Env } from '../../functions/config/env-settings.ts';
import { log } from '../../functions/http/log.ts';
import { startAwsLocal, type AwsLocal } from './start.ts';

function settings(env: Env): { host: string; port: number; ingest: boolean; edgeUploads: boolean; auth: boolean; faultEdgePutUnsigned: boolean; proxyMirror?: string } {
  const proxyMirror = optionalSetting(env, 'REGISTRY_PROXY_MIRROR');
  return {
    ...(proxyMirror ? { proxyMirror } : {}),
    host: textSetting(env, 'HOST', '127.0.0.1'),
    port: intSetting(env, 'PORT', 5000, 0, 65535),
    ingest: choiceSetting(env, 'REGISTRY_INGEST', ['on', 'off'], 'on') === 'on',
    edgeUploads: choiceSetting(env, 'REGISTRY_EDGE_UPLOADS', ['on', 'off'], 'on') === 'on',
    auth: choiceSetting(env, 'REGISTRY_AUTH', ['on', 'off'], 'off') === 'on',
    // A test fault, never a setting: S3 refuses edge PUTs as if OAC left their x-amz headers unsigned.
    faultEdgePutUnsigned: choiceSetting(env, 'START_AWS_FAULT', ['none', 'edge-put-unsigned'], 'none') === 'edge-put-unsigned',
  };
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
  log('info', 'listening', { url: local.url, pid: process.pid, mode: 'aws', ingest: local.ingest ? local.ingest.url : 'off', edgeUploads: local.edgeUploads ? 'on' : 'off' });
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`registry: ${e.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const code = (e as { code?: string }).code;
  process.stderr.write(`registry: ${code === 'EADDRINUSE' ? 'the port is in use: set PORT' : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
