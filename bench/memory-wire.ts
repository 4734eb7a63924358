// DynamoDB mocked at the wire, inside the measured process (handler-cpu.ts, BENCH wire "memory"): every
// node:http connection the process opens is an in-memory stream. The client still builds, signs and
// writes its whole HTTP request and parses a whole HTTP response from bytes; no kernel socket is
// involved. On loopback a send() also runs the receiving side's TCP work in the sender's system time,
// so the replay server's share of the kernel lands in the measured process: this takes it out. The
// first request of each kind (X-Amz-Target and body) goes over a real socket to `upstream` (the
// replay server, dynamo-replay.ts) in the untimed warm-up; its answer is replayed from then on.
import { Agent, request } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const KEEP = ['content-type', 'x-amz-crc32', 'x-amzn-requestid'];
const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 500: 'Internal Server Error' };

export interface MemoryWire {
  stats: { memory: number; forwarded: number };
  /** Puts node:http's own connections back. */
  uninstall(): void;
}

/** Sends one request over a real socket (an agent of its own, outside the patched prototype). */
function forward(upstream: URL, agent: Agent, head: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(upstream, { method: 'POST', agent, headers: { ...head, host: upstream.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const k of KEEP) if (typeof res.headers[k] === 'string') headers[k] = res.headers[k];
        resolve({ status: res.statusCode ?? 500, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function responseBytes(a: Answer): Buffer {
  const lines = [`HTTP/1.1 ${a.status} ${REASONS[a.status] ?? 'Status'}`, ...Object.entries(a.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${a.body.byteLength}`, 'connection: keep-alive'];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), a.body]);
}

/** One in-memory connection: parses each request written to it and pushes the recorded answer. */
class MemorySocket extends Duplex {
  private pending: Buffer = Buffer.alloc(0);
  private readonly answer: (head: Record<string, string>, body: Buffer) => Promise<Buffer>;
  constructor(answer: (head: Record<string, string>, body: Buffer) => Promise<Buffer>) {
    super();
    this.answer = answer;
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.pending = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head: Record<string, string> = {};
      for (const line of this.pending.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        head[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(head['content-length'] ?? 0);
      if (this.pending.byteLength < end + 4 + length) break;
      const body = this.pending.subarray(end + 4, end + 4 + length);
      this.pending = this.pending.subarray(end + 4 + length);
      this.answer(head, body).then((bytes) => setImmediate(() => this.push(bytes)), (e: Error) => this.destroy(e));
    }
    done();
  }
  // What node:http's client and agent call on a net.Socket.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/** Makes every node:http connection of this process in-memory, answered as described above. */
export function installMemoryWire(upstream: string): MemoryWire {
  const target = new URL(upstream);
  const real = new Agent({ keepAlive: true });
  real.createConnection = (options, cb) => createConnection(options as Parameters<typeof createConnection>[0], cb as () => void) as Socket;
  const recorded = new Map<string, Buffer>();
  const stats = { memory: 0, forwarded: 0 };
  const answer = async (head: Record<string, string>, body: Buffer): Promise<Buffer> => {
    const key = `${head['x-amz-target'] ?? ''}\n${body.toString()}`;
    const hit = recorded.get(key);
    if (hit) {
      stats.memory++;
      return hit;
    }
    stats.forwarded++;
    const got = await forward(target, real, head, body);
    const bytes = responseBytes(got);
    if (got.status === 200) recorded.set(key, bytes);
    return bytes;
  };
  const original = Object.getOwnPropertyDescriptor(Agent.prototype, 'createConnection');
  Agent.prototype.createConnection = function memoryConnection() {
    return new MemorySocket(answer) as unknown as Socket;
  };
  return {
    stats,
    uninstall: () => {
      if (original) Object.defineProperty(Agent.prototype, 'createConnection', original);
      real.destroy();
    },
  };
}
