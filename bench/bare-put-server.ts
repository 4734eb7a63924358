// The least a Node PUT can do, for the blob PUT ceiling (put-ceiling.ts): a bare node:http server
// that answers the upload POST with a Location and, on the PUT, hashes each chunk with node:crypto,
// writes it synchronously to a file, fsyncs, checks the digest and answers 201. No routing, no
// sessions, no metadata: what npm start's PUT is compared with to tell the server's own cost from
// what Node, curl and the kernel cost on this machine. Run as a child: node bench/bare-put-server.ts <port> <dir>.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [port, dir] = [Number(process.argv[2]), process.argv[3]!];
let next = 0;

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
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    writeSync(fd, chunk);
  });
  req.on('end', () => {
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
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
