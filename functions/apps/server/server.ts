// The local registry: node:http in front of the core, SQLite metadata and files for blobs.
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
import { BLOB_PATH_PREFIX, serveBlob } from './blob-route.ts';
import { dataDirError, type LocalConfig } from './config.ts';
import { startRegistryHttpServer, type RegistryHttpServer } from '../../http/server.ts';
import { log } from '../../http/log.ts';
import { loadSecret } from './secret.ts';
import { sweepUploads } from './sweeper.ts';

export { STOP_DEADLINE_MS, STOP_GRACE_MS, UNWIND_MS } from '../../http/server.ts';
export type { LocalConfig } from './config.ts';

export interface LocalRegistry {
  url: string;
  server: Server;
  /** Graceful stop (see RegistryHttpServer.close), then the database closes. */
  close(): Promise<void>;
}

/** Creates or opens the data dir: secret, database, blob folders, and clears what a crash left behind. */
async function openDataDir(dataDir: string, secret: string | undefined): Promise<{ uploadTokens: TokenSigner; metadata: SqliteMetadataStore; blobs: FsBlobStore }> {
  await mkdir(dataDir, { recursive: true });
  // Refused here, the message names the data dir itself rather than whichever file came first.
  await access(dataDir, constants.W_OK | constants.X_OK);
  // One secret, two keys: upload tokens and blob URLs never verify with each other's key.
  const master = await loadSecret(dataDir, secret);
  const uploadTokens = new TokenSigner([{ id: 'u0', secret: deriveKey(master, 'upload-token') }]);
  const blobUrls = new TokenSigner([{ id: 'b0', secret: deriveKey(master, 'blob-url') }]);
  const metadata = new SqliteMetadataStore(join(dataDir, 'registry.db'));
  try {
    const blobs = new FsBlobStore(dataDir, blobUrls);
    await blobs.init();
    // No request of this process holds a lease yet: one left by a killed process is void.
    metadata.releaseAllLeases();
    await sweepUploads(metadata, blobs, { orphans: true });
    return { uploadTokens, metadata, blobs };
  } catch (e) {
    metadata.close();
    throw e;
  }
}

export async function startLocalRegistry(config: LocalConfig): Promise<LocalRegistry> {
  const { uploadTokens, metadata, blobs } = await openDataDir(config.dataDir, config.secret).catch((e: unknown) => {
    throw dataDirError(e, config.dataDir) ?? e;
  });
  const registry = createRegistry({
    metadata,
    blobs,
    authorizer: allowAll,
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
      extraRoute: { prefix: BLOB_PATH_PREFIX, serve: (url, req, res) => serveBlob(blobs, url, req, res) },
    });
  } catch (e) {
    metadata.close();
    throw e;
  }
  const sweeper = setInterval(() => {
    http.track(sweepUploads(metadata, blobs, { orphans: false }).catch((e: unknown) => log('warn', 'upload sweep failed', { error: String(e) })));
  }, config.sweepIntervalSeconds * 1000);
  sweeper.unref();

  return {
    url: http.url,
    server: http.server,
    async close() {
      clearInterval(sweeper);
      await http.close();
      metadata.close();
    },
  };
}
