// A real upstream for pull-through tests: Debian's docker-registry (CNCF distribution 2.8) on
// loopback, anonymous or behind htpasswd Basic auth, with its access log on so a test can count
// what reached it (distribution logs one line per request).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepOutput } from './test-output.ts';
import { freePort } from '../../bench/proc.ts';

export const UPSTREAM_USER = 'mirror-bot';
export const UPSTREAM_PASSWORD = 'upstream-pass-123';
/** bcrypt (cost 4) of UPSTREAM_PASSWORD, as distribution's htpasswd wants it (made with Python's crypt). */
const UPSTREAM_BCRYPT = '$2b$04$bao5rmarenGdKRt63501oeSLkZXN8tB2HR.JCc8DV8zp72zahW25S';

export interface Upstream {
  url: string;
  host: string;
  /** Access log: `METHOD path status` per request, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startUpstream(opts: { basicAuth?: boolean; storage?: string } = {}): Promise<Upstream> {
  const dir = await mkdtemp(join(tmpdir(), 'upstream-'));
  const port = await freePort();
  const auth = opts.basicAuth
    ? ['auth:', '  htpasswd:', '    realm: upstream', `    path: ${join(dir, 'htpasswd')}`]
    : [];
  if (opts.basicAuth) await writeFile(join(dir, 'htpasswd'), `${UPSTREAM_USER}:${UPSTREAM_BCRYPT}\n`);
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${opts.storage ?? join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    ...auth,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  // Go's AWS SDK refuses plain-HTTP endpoints with AWS_CA_BUNDLE set (DESIGN.md §7); harmless here.
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const requests: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      keepOutput('upstream', `${line}\n`);
      // Combined log format: ... "GET /v2/x/manifests/v1 HTTP/1.1" 200 ...
      const m = /"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/.exec(line);
      if (m) requests.push(`${m[1]} ${m[2]} ${m[3]}`);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/v2/`).then(
      async (r) => (await r.arrayBuffer(), r.status === 200 || r.status === 401),
      () => false,
    );
    if (ok) break;
    if (i > 100 || child.exitCode !== null) {
      await stop();
      throw new Error('docker-registry did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, host: `127.0.0.1:${port}`, requests, stop };
}
