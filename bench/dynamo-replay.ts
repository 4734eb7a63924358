// DynamoDB "at the wire" for the handler-CPU figure: an HTTP server in the bench's process that
// answers the API bundle's DynamoDB requests with the answers DynamoDB Local gave to the same requests
// (recorded on first sight, keyed by X-Amz-Target and body, then replayed byte for byte, CRC32 header
// included). The handler's SDK still signs, serializes, sends over a socket, parses and unmarshals
// every request; DynamoDB Local's own CPU (a JVM) is out of the measured process and out of the way.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Recorded {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface DynamoReplay {
  url: string;
  /** Requests answered from the recording, and forwarded to the real endpoint. */
  stats: { replayed: number; forwarded: number };
  close(): Promise<void>;
}

const KEEP = ['content-type', 'x-amz-crc32', 'x-amzn-requestid'];

function forward(target: URL, method: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Recorded> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method, headers: { ...headers, host: target.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const kept: Record<string, string> = {};
        for (const k of KEEP) if (typeof res.headers[k] === 'string') kept[k] = res.headers[k];
        resolve({ status: res.statusCode ?? 500, headers: kept, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Replays `endpoint`'s answers (a DynamoDB endpoint URL). Only 200 answers are kept for replay. */
export async function startDynamoReplay(endpoint: string): Promise<DynamoReplay> {
  const target = new URL(endpoint);
  const recorded = new Map<string, Recorded>();
  const stats = { replayed: 0, forwarded: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const key = `${String(req.headers['x-amz-target'])}\n${body.toString()}`;
      const send = (r: Recorded): void => {
        res.writeHead(r.status, { ...r.headers, 'content-length': String(r.body.byteLength) }).end(r.body);
      };
      const hit = recorded.get(key);
      if (hit) {
        stats.replayed++;
        send(hit);
        return;
      }
      stats.forwarded++;
      forward(target, req.method ?? 'POST', req.headers, body).then(
        (r) => {
          if (r.status === 200) recorded.set(key, r);
          send(r);
        },
        (e: Error) => res.writeHead(502).end(e.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
