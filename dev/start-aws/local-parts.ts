// start:aws's small parts: a free port, waiting for the ingest child's health, and the gate that
// holds s3rver's object-created events back until the S3 stand-in has verified the object.
import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import type { S3Event } from 'aws-lambda';

export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForHealth(url: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ingest service exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the ingest service did not become healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Holds back s3rver's object-created event for a key the S3 stand-in is still verifying, and drops
 * it when the checksum failed: real S3 announces only objects it accepted.
 */
export class EventGate {
  readonly #pending = new Map<string, { events: S3Event[] }>();
  readonly #deliver: (event: S3Event) => void;
  constructor(deliver: (event: S3Event) => void) {
    this.#deliver = deliver;
  }

  expect(key: string): void {
    this.#pending.set(key, { events: [] });
  }

  verdict(key: string, ok: boolean): void {
    const p = this.#pending.get(key);
    this.#pending.delete(key);
    if (ok) for (const e of p?.events ?? []) this.#deliver(e);
  }

  event(event: S3Event): void {
    const key = event.Records[0]?.s3.object.key ?? '';
    const p = this.#pending.get(decodeURIComponent(key));
    if (p) p.events.push(event);
    else this.#deliver(event);
  }
}
