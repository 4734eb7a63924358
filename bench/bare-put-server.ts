// The least a Node PUT can do, for the blob PUT ceiling (put-ceiling.ts): a bare node:http server
// that answers the upload POST with a Location and, on the PUT, hashes each chunk with node:crypto,
// writes it, fsyncs, checks the digest and answers 201. No routing, no sessions, no metadata: what
// npm start's PUT is compared with to tell the server's own cost from what Node, curl and the kernel
// cost on this machine. Two ways to write (argv[4]):
// - `sync`: each chunk written synchronously as it arrives, one fsync at the end (the twelve-line
//   server of issue 17);
// - `overlapped`: writes go to libuv's thread pool, one in flight while the next bytes are received
//   and hashed, with fdatasync every 32 MiB so the final fsync is short (what npm start does).
// Run as a child: node bench/bare-put-server.ts <port> <dir> [sync|overlapped].
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, unlinkSync, write, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const [port, dir, mode = 'sync'] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]];
if (mode !== 'sync' && mode !== 'overlapped') throw new Error(`unknown mode ${mode}`);
const writeAt = promisify(write);
const datasync = promisify(fdatasync);
const SYNC_EVERY = 32 * 1024 * 1024;
let next = 0;

/** Writes chunks in order, one in flight; datasync every SYNC_EVERY bytes; `drain` waits for all of it. */
function overlappedWriter(fd: number) {
  let tail: Promise<unknown> = Promise.resolve();
  let position = 0;
  let unsynced = 0;
  return {
    add(chunk: Buffer): void {
      const at = position;
      position += chunk.byteLength;
      unsynced += chunk.byteLength;
      const sync = unsynced >= SYNC_EVERY;
      if (sync) unsynced = 0;
      tail = tail.then(() => writeAt(fd, chunk, 0, chunk.byteLength, at)).then(() => (sync ? datasync(fd) : undefined));
    },
    drain: () => tail,
  };
}

createServer((req, res) => {
  if (req.method === 'POST') {
    res.writeHead(202, { location: `/upload/${next++}` }).end();
    return;
  }
  if (req.method !== 'PUT') {
    res.writeHead(req.method === 'GET' ? 200 : 405).end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://bare');
  const file = join(dir, `upload-${url.pathname.split('/').pop()}`);
  const fd = openSync(file, 'w');
  const hash = createHash('sha256');
  const writer = mode === 'overlapped' ? overlappedWriter(fd) : undefined;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    if (writer) writer.add(chunk);
    else writeSync(fd, chunk);
  });
  req.on('end', () => {
    void (writer?.drain() ?? Promise.resolve()).then(() => {
      fsyncSync(fd);
      closeSync(fd);
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== url.searchParams.get('digest')) {
        unlinkSync(file);
        res.writeHead(400).end('digest mismatch');
        return;
      }
      renameSync(file, join(dir, digest.slice('sha256:'.length)));
      res.writeHead(201).end();
    }, (e: Error) => res.writeHead(500).end(e.message));
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
