// The storage contracts (test/contract) against the embedded adapters: SQLite metadata and the file
// blob store, whose signed URLs are served by the local server's blob route.
import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../functions/adapters/fs/fs-blob-store.ts';
import { SqliteMetadataStore } from '../../functions/adapters/sqlite/sqlite-metadata.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { serveBlob } from '../../functions/apps/server/blob-route.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';
import { identityStoreContract } from './identity-store.contract.ts';
import { SqliteIdentityStore } from '../../functions/adapters/sqlite/sqlite-identity.ts';
import { SqliteAuditLog } from '../../functions/adapters/sqlite/sqlite-audit.ts';
import { auditLogContract } from './audit-log.contract.ts';

identityStoreContract('SQLite (in memory)', async () => {
  const store = new SqliteIdentityStore(':memory:');
  return { store, close: async () => store.close() };
});

metadataStoreContract('SQLite (in memory)', async () => {
  const store = new SqliteMetadataStore(':memory:');
  return { store, close: async () => store.close() };
});

let root: string;
let server: Server;
let base: string;
const store = (): FsBlobStore => current;
let current: FsBlobStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-contract-'));
  current = new FsBlobStore(root, new TokenSigner(randomBytes(32)));
  await current.init();
  server = createServer((req, res) => void serveBlob(store(), new URL(req.url ?? '/', 'http://local'), req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

blobStoreContract('files (one data dir, URLs served by the blob route)', () => store(), {
  fetch: (url, init) => fetch(new URL(url, base), init),
});

auditLogContract('SQLite (in memory)', async () => {
  const log = new SqliteAuditLog(':memory:', { now: () => Date.parse('2026-12-02T00:00:00Z') });
  return { log, close: async () => log.close() };
});
