// Raw TCP helpers for requests node's HTTP client cannot send: arbitrary bytes on a fresh connection,
// the status lines of what came back, and TLS probes against the plain-HTTP port.
import net from 'node:net';
import tls from 'node:tls';

export interface RawResult {
  data: Buffer;
  closed: boolean;
  firstByteMs?: number;
  closeMs?: number;
  error?: string;
}

/**
 * Writes `parts` to a fresh TCP connection and collects what comes back until the server closes the
 * connection or `waitMs` passes. `after`: 'half' ends our side, 'destroy' resets it, 'keep' does neither.
 */
export function raw(port: number, parts: (Buffer | string)[], after: 'half' | 'destroy' | 'keep', waitMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const result: RawResult = { data: Buffer.alloc(0), closed: false };
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      result.data = Buffer.concat(chunks);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d: Buffer) => {
      result.firstByteMs ??= performance.now() - started;
      chunks.push(d);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      result.error = e.code ?? e.message;
    });
    socket.on('close', () => {
      result.closed = true;
      result.closeMs = performance.now() - started;
      finish();
    });
    socket.on('connect', () => {
      for (const p of parts) socket.write(p);
      if (after === 'half') socket.end();
      if (after === 'destroy') setTimeout(() => socket.destroy(), 50);
    });
  });
}

export const statusLines = (data: Buffer): number[] => [...data.toString('latin1').matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

/** Captures the ClientHello that node's TLS client sends (what skopeo/podman/docker send to probe). */
export async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'registry.local', rejectUnauthorized: false });
      client.on('error', () => undefined);
      setTimeout(() => {
        client.destroy();
        reject(new Error('no ClientHello captured'));
      }, 3000).unref();
    });
  });
}

/** Connects with a real TLS client (as Go's and containers/image's probes do) and says how it ended. */
export function tlsHandshakeOutcome(port: number): Promise<string> {
  return new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    const t = setTimeout(() => {
      s.destroy();
      resolve('timeout');
    }, 3000);
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(`error ${e.code ?? e.message}`);
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
    s.on('secureConnect', () => {
      clearTimeout(t);
      s.destroy();
      resolve('tls handshake succeeded?!');
    });
  });
}
