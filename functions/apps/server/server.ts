// The local registry: node:http in front of the core, SQLite metadata and files for blobs.
import { publicProjects } from '../../core/auth/public-projects.ts';
import { projectTagRules } from '../../core/tag-immutability.ts';
import { projectQuotas } from '../../core/quota.ts';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { allowAll } from '../../core/access.ts';
import { StorageFullError } from '../../core/ports.ts';
import { createRegistry } from '../../core/registry.ts';
import { deriveKey, TokenSigner } from '../../core/tokens.ts';
import { FsBlobStore } from '../../adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-metadata.ts';
import { IDENTITY_DB, SqliteIdentityStore } from '../../adapters/sqlite/sqlite-identity.ts';
import type { Authorizer } from '../../core/access.ts';
import type { AuthDeps } from '../../core/auth/auth-deps.ts';
import { TokenService } from '../../core/auth/jwt.ts';
import { TokenAuthorizer, type AuthSettings } from '../../core/auth/token-authorizer.ts';
import { tokenKeysFrom } from '../../core/auth/token-keys.ts';
import { MemoryLoginThrottle } from '../../core/auth/login-throttle.ts';
import { githubActionsVerifier } from '../../adapters/oidc/discovered-keys.ts';
import { BLOB_PATH_PREFIX, serveBlob } from './blob-route.ts';
import { dataDirError, type LocalConfig } from './config.ts';
import { startRegistryHttpServer, type RegistryHttpServer } from '../../http/server.ts';
import { log } from '../../http/log.ts';
import { loadSecret } from './secret.ts';
import { sweepUploads } from './sweeper.ts';
import { startGcTimer } from './gc-timer.ts';
import { projectRetention } from '../../core/gc/retention.ts';
import { AUDIT_DB, SqliteAuditLog } from '../../adapters/sqlite/sqlite-audit.ts';
import { DEFAULT_PULL_FLUSH_MS } from '../../core/audit.ts';
import { localAuditRecorder } from './audit.ts';
import { localProxy } from './proxy.ts';
import { uiRoute } from './ui-route.ts';

export { STOP_DEADLINE_MS, STOP_GRACE_MS, UNWIND_MS } from '../../http/server.ts';
export type { LocalConfig } from './config.ts';

export interface LocalRegistry {
  url: string;
  server: Server;
  /** Graceful stop (see RegistryHttpServer.close), then the database closes. */
  close(): Promise<void>;
}

/** Creates or opens the data dir: secret, database, blob folders, and clears what a crash left behind. */
interface DataDir {
  uploadTokens: TokenSigner;
  metadata: SqliteMetadataStore;
  blobs: FsBlobStore;
  identity: SqliteIdentityStore;
  audit: SqliteAuditLog;
  /** Seed of the ES256 token signing key (derived from the master secret). */
  tokenSeed: Buffer;
}

async function openDataDir(dataDir: string, secret: string | undefined): Promise<DataDir> {
  await mkdir(dataDir, { recursive: true });
  // Refused here, the message names the data dir itself rather than whichever file came first.
  await access(dataDir, constants.W_OK | constants.X_OK);
  // One secret, two keys: upload tokens and blob URLs never verify with each other's key.
  const master = await loadSecret(dataDir, secret);
  const uploadTokens = new TokenSigner([{ id: 'u0', secret: deriveKey(master, 'upload-token') }]);
  const blobUrls = new TokenSigner([{ id: 'b0', secret: deriveKey(master, 'blob-url') }]);
  const metadata = new SqliteMetadataStore(join(dataDir, 'registry.db'));
  let identity: SqliteIdentityStore | undefined;
  let audit: SqliteAuditLog | undefined;
  try {
    identity = new SqliteIdentityStore(join(dataDir, IDENTITY_DB));
    audit = new SqliteAuditLog(join(dataDir, AUDIT_DB));
    const blobs = new FsBlobStore(dataDir, blobUrls);
    await blobs.init();
    // No request of this process holds a lease yet: one left by a killed process is void.
    metadata.releaseAllLeases();
    await sweepUploads(metadata, blobs, { orphans: true });
    return { uploadTokens, metadata, blobs, identity, audit, tokenSeed: deriveKey(master, 'token-signing') };
  } catch (e) {
    metadata.close();
    identity?.close();
    audit?.close();
    throw e;
  }
}

/** Token auth of the local server: the realm is the public URL's, or the address it listens on. */
function localAuth(config: LocalConfig, data: DataDir): { auth: AuthDeps; authorizer: Authorizer; settings: AuthSettings } | undefined {
  if (!config.auth.on) return undefined;
  const settings: AuthSettings = { realm: config.auth.url ? `${config.auth.url}/token` : '', service: config.auth.service };
  const tokens = new TokenService(tokenKeysFrom([data.tokenSeed]), { issuer: config.auth.service, service: config.auth.service, refreshTokenSeconds: config.auth.refreshTokenSeconds });
  const oidc = githubActionsVerifier(config.auth.oidc.audience, config.auth.oidc.githubUrl);
  return { auth: { store: data.identity, tokens, throttle: new MemoryLoginThrottle(), oidc }, authorizer: new TokenAuthorizer(tokens, settings, publicProjects(data.identity)), settings };
}

export async function startLocalRegistry(config: LocalConfig): Promise<LocalRegistry> {
  const data = await openDataDir(config.dataDir, config.secret).catch((e: unknown) => {
    throw dataDirError(e, config.dataDir) ?? e;
  });
  const { uploadTokens, metadata, blobs, identity } = data;
  const auth = localAuth(config, data);
  const audit = localAuditRecorder(data.audit);
  const proxy = localProxy(config.dataDir, identity, config.proxy);
  const registry = createRegistry({
    audit,
    metadata,
    blobs,
    authorizer: auth?.authorizer ?? allowAll,
    // Projects and their settings exist with token auth only.
    ...(auth ? { auth: auth.auth, tagRules: projectTagRules(auth.auth.store), quotas: projectQuotas(auth.auth.store) } : {}),
    proxy: proxy.proxy,
    uploadTokens,
    settings: { uploadTtlSeconds: config.uploadTtlSeconds },
    onError: (e, req) =>
      e instanceof StorageFullError
        ? log('warn', 'storage full', { method: req.method, path: req.path, error: e.message })
        : log('error', 'unexpected error', { method: req.method, path: req.path, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  });

  let http: RegistryHttpServer;
  try {
    http = await startRegistryHttpServer({
      host: config.host,
      port: config.port,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      registry,
      extraRoutes: [
        { matches: (path) => path.startsWith(BLOB_PATH_PREFIX), serve: (url, req, res) => serveBlob(blobs, url, req, res) },
        // The web interface needs the management API, which needs token auth.
        ...(auth ? [uiRoute()] : []),
      ],
    });
  } catch (e) {
    metadata.close();
    identity.close();
    data.audit.close();
    proxy.close();
    throw e;
  }
  // Without a public URL, the realm is where this server listens (known once it does).
  if (auth && !config.auth.url) auth.settings.realm = `${http.url}/token`;
  const sweeper = setInterval(() => {
    http.track(sweepUploads(metadata, blobs, { orphans: false }).catch((e: unknown) => log('warn', 'upload sweep failed', { error: String(e) })));
  }, config.sweepIntervalSeconds * 1000);
  sweeper.unref();
  const pullCounts = setInterval(() => http.track(audit.flushPulls()), DEFAULT_PULL_FLUSH_MS);
  pullCounts.unref();
  const gc = config.gc ? startGcTimer({ metadata, blobs, now: Date.now, retention: projectRetention(identity) }, config.gc, (run) => http.track(run)) : undefined;

  return {
    url: http.url,
    server: http.server,
    async close() {
      clearInterval(sweeper);
      clearInterval(pullCounts);
      gc?.stop();
      await http.close();
      await audit.flushPulls();
      metadata.close();
      identity.close();
      data.audit.close();
      proxy.close();
    },
  };
}
