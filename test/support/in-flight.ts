// Observable events of a request in flight and of a stopping server, for tests that must act at that
// moment (send a competing PUT, signal the server, check the port) instead of sleeping and hoping:
// the write lease the local server's handler takes on an upload's session row before it reads a body
// (functions/adapters/sqlite, column lease_holder), and the listening port refusing connections.
import { DatabaseSync } from 'node:sqlite';
import net from 'node:net';
import { join } from 'node:path';

/** Whether upload session `id` in the registry of `dataDir` is leased by a request now. */
export function uploadLeased(dataDir: string, id: string): boolean {
  // A connection per look: the server writes meanwhile (WAL), and only reads happen here.
  const db = new DatabaseSync(join(dataDir, 'registry.db'), { timeout: 2000 });
  try {
    const row = db.prepare('SELECT lease_holder FROM uploads WHERE id = ?').get(id) as { lease_holder: string | null } | undefined;
    if (row === undefined) throw new Error(`no upload session ${id} in ${dataDir}`);
    return row.lease_holder !== null;
  } finally {
    db.close();
  }
}

/** Waits until a request holds the lease of upload session `id`; fails after `timeoutMs`. */
export async function waitForUploadLease(dataDir: string, id: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!uploadLeased(dataDir, id)) {
    if (performance.now() > deadline) throw new Error(`no request took the lease of upload ${id} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The upload session id of an upload Location (`/v2/<name>/blobs/uploads/<id>?...`). */
export function uploadIdOf(location: URL | string): string {
  const path = new URL(location, 'http://x').pathname;
  const id = path.split('/').at(-1);
  if (!id || !path.includes('/blobs/uploads/')) throw new Error(`not an upload Location: ${String(location)}`);
  return id;
}

/** Whether a new TCP connection to the port on 127.0.0.1 is refused. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Waits until the port refuses connections; fails after `timeoutMs`. */
export async function waitUntilRefused(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await connectionRefused(port))) {
    if (performance.now() > deadline) throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
