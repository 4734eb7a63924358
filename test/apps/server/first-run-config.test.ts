// A configuration error at start-up is one line on stderr, naming the setting and what to do, with
// exit status 78 (EX_CONFIG) and no stack trace; the registry never starts listening.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type SpawnOptions } from 'node:child_process';
import net from 'node:net';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirError } from '../../../functions/apps/server/config.ts';
import { EXIT_CONFIG } from '../../../functions/config/config-error.ts';
import { listenError } from '../../../functions/http/listen-error.ts';
import { mainScript } from '../../support/registry.ts';
import { projectDir } from '../../support/npm-start.ts';

interface Outcome { code: number | null; stdout: string; stderr: string }

function run(command: string, args: string[], env: Record<string, string>, options: SpawnOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const childEnv: Record<string, string | undefined> = { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env };
    const child = spawn(command, args, { cwd: projectDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The registry as `npm start` execs it: node on main.ts. */
const startMain = (env: Record<string, string>, options: SpawnOptions = {}) => run(process.execPath, [mainScript], env, options);

function expectOneLine(outcome: Outcome, line: string): void {
  expect(outcome.stderr).toBe(`registry: ${line}\n`);
  expect(outcome.code).toBe(EXIT_CONFIG);
  expect(outcome.stdout).not.toContain('listening');
}

describe('configuration errors at start-up', { timeout: 30_000 }, () => {
  let scratch: string;
  let dataDir: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'registry-config-'));
    dataDir = join(scratch, 'data');
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('a PORT that is not a port number', async () => {
    expectOneLine(await startMain({ PORT: 'http', REGISTRY_DATA_DIR: dataDir }), 'PORT must be an integer from 0 to 65535, got "http"');
    expectOneLine(await startMain({ PORT: '70000', REGISTRY_DATA_DIR: dataDir }), 'PORT must be an integer from 0 to 65535, got "70000"');
  });

  it('a REGISTRY_SECRET shorter than 16 bytes', async () => {
    expectOneLine(
      await startMain({ REGISTRY_SECRET: 'tooshort', REGISTRY_DATA_DIR: dataDir }),
      'REGISTRY_SECRET is 8 bytes long, it must be at least 16: set a longer one (e.g. `openssl rand -hex 32`) or unset it to use the generated one',
    );
  });

  it('a port already in use', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as net.AddressInfo;
    try {
      expectOneLine(await startMain({ PORT: String(port), REGISTRY_DATA_DIR: dataDir }), `port ${port} on 127.0.0.1 is in use: stop what is listening there or set PORT to a free port`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('a HOST that is not an address of this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    expectOneLine(
      await startMain({ HOST: '192.0.2.1', REGISTRY_DATA_DIR: dataDir, REGISTRY_AUTH: 'insecure-off' }),
      'HOST 192.0.2.1 is not an address of this machine: set HOST to one of its addresses, 127.0.0.1 or 0.0.0.0',
    );
  });

  it('an address other machines reach, without authentication (REGISTRY_AUTH defaults to off)', async () => {
    for (const env of [{ HOST: '0.0.0.0' }, { HOST: '0.0.0.0', REGISTRY_AUTH: 'off' }] as Record<string, string>[]) {
      expectOneLine(
        await startMain({ ...env, REGISTRY_DATA_DIR: dataDir }),
        'HOST 0.0.0.0 is reachable from other machines and REGISTRY_AUTH is off: anyone there could push and delete. Set REGISTRY_AUTH=on (create users with `npm run admin -- user add <name> --admin`), or REGISTRY_AUTH=insecure-off to run open on purpose',
      );
    }
    expectOneLine(await startMain({ REGISTRY_AUTH: 'maybe', REGISTRY_DATA_DIR: dataDir }), 'REGISTRY_AUTH must be on, off or insecure-off, got "maybe"');
  });

  it('a data dir this user cannot write', async () => {
    const readOnly = join(scratch, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    try {
      // root writes anywhere: as root the registry runs without the capabilities that bypass file
      // modes (util-linux setpriv), so the mode bits refuse it as they refuse any user. Still root,
      // it reads the checkout wherever it lives (another user could not enter a 0700 folder).
      const asRoot = process.getuid?.() === 0;
      const outcome = asRoot
        ? await run('setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, mainScript], { REGISTRY_DATA_DIR: readOnly })
        : await startMain({ REGISTRY_DATA_DIR: readOnly });
      expectOneLine(outcome, `data dir ${readOnly} is not usable (permission denied): set REGISTRY_DATA_DIR to a directory this user can write, or fix its permissions`);
    } finally {
      await chmod(readOnly, 0o755);
    }
  });

  it('a data dir path that runs through a file', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, '');
    const underFile = join(file, 'data');
    expectOneLine(
      await startMain({ REGISTRY_DATA_DIR: underFile }),
      `data dir ${underFile} is not usable (a part of the path is a file, not a directory): set REGISTRY_DATA_DIR to a directory this user can write, or fix its permissions`,
    );
  });

  it('through `npm start`, the same one line and exit status reach the shell', async () => {
    const outcome = await run('npm', ['start'], { PORT: 'http', REGISTRY_DATA_DIR: dataDir });
    expect(outcome.code).toBe(EXIT_CONFIG);
    // npm may add lines of its own around it (npm 11 adds none); ours is there whole, and no stack trace.
    expect(outcome.stderr.split('\n')).toContain('registry: PORT must be an integer from 0 to 65535, got "http"');
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the one-line messages for failures a test cannot provoke here (root, a read-only or full disk)', () => {
  const errno = (code: string, path?: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code, path });

  it('listening on a privileged port without privileges', () => {
    expect(listenError(errno('EACCES'), '0.0.0.0', 80)?.message).toBe('no permission to listen on port 80 (ports below 1024 need privileges): set PORT to 1024 or above');
  });

  it('a data dir on a read-only or full file system, with the file that failed', () => {
    expect(dataDirError(errno('EROFS', '/srv/reg'), '/srv/reg')?.message).toBe(
      'data dir /srv/reg is not usable (read-only file system): set REGISTRY_DATA_DIR to a directory this user can write, or fix its permissions',
    );
    expect(dataDirError(errno('ENOSPC', '/srv/reg/secret'), '/srv/reg')?.message).toBe(
      'data dir /srv/reg is not usable (no space left on the device at /srv/reg/secret): set REGISTRY_DATA_DIR to a directory this user can write, or fix its permissions',
    );
  });

  it('anything else is not dressed up as a configuration error (it keeps its stack trace)', () => {
    expect(listenError(errno('EMFILE'), '127.0.0.1', 5000)).toBeUndefined();
    expect(dataDirError(new TypeError('a bug'), '/srv/reg')).toBeUndefined();
  });
});
