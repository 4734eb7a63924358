// Shared pieces of the e2e tests: the registry under test, temp dirs, HTTP checks against the
// registry API, and digest verification of OCI layouts that clients wrote.
//
// The registry under test is our local server (startRegistry(), fresh temp data dir). With
// E2E_TARGET=distribution the same tests run against Debian's CNCF distribution 2.8
// (/usr/bin/docker-registry) instead, which checks the tests and recipes themselves.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { TestContext } from 'vitest';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { startRegistry } from '../support/registry.ts';
import { findTool } from '../support/clients.ts';
import { MANIFEST_MEDIA_TYPES, type Descriptor } from '../support/oci.ts';

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export interface Target {
  kind: 'local' | 'distribution';
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. 127.0.0.1:41234, for image references */
  host: string;
  /** Log lines so far (for failure reports). */
  logs(): string[];
  stop(): Promise<void>;
}

/** Starts the registry under test and stops it when the test ends (pass, fail or timeout). */
export async function startTarget(t: TestContext): Promise<Target> {
  const target = process.env.E2E_TARGET === 'distribution' ? await startDistribution() : await startLocal();
  t.onTestFinished(() => target.stop());
  return target;
}

async function startLocal(): Promise<Target> {
  const reg = await startRegistry();
  return { kind: 'local', url: reg.url, host: reg.host, logs: () => reg.logs, stop: () => reg.stop() };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function startDistribution(): Promise<Target> {
  const bin = findTool('docker-registry');
  if (!bin) throw new Error('E2E_TARGET=distribution but /usr/bin/docker-registry is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'e2e-distribution-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const collect = (d: Buffer): void => {
    logs.push(...d.toString().split('\n').filter(Boolean));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const end = Date.now() + 10_000;
  for (;;) {
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > end || child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry did not start: ${logs.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind: 'distribution', url, host: `127.0.0.1:${port}`, logs: () => logs, stop };
}

/**
 * Runs a test body; on failure, appends the registry's last log lines to the error so a server-side
 * cause (status codes, errors) shows up in the test report.
 */
export async function withRegistryLogs<T>(target: Target, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const lines = target.logs().slice(-40);
    if (err instanceof Error) {
      // Reporters print the stack, which embeds the message as it was when the stack was first read.
      const stack = err.stack;
      const before = err.message;
      err.message += `\n--- last ${lines.length} registry log lines (${target.kind}) ---\n${lines.join('\n')}`;
      if (stack?.includes(before)) err.stack = stack.replace(before, err.message);
    }
    throw err;
  }
}

/** A temp dir removed when the test ends. */
export async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `e2e-${prefix}-`));
  t.onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Registry HTTP API

export interface ManifestHead {
  status: number;
  digest: string | null;
  contentType: string | null;
  contentLength: string | null;
}

export async function headManifest(target: Target, repo: string, ref: string): Promise<ManifestHead> {
  const res = await fetch(`${target.url}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } });
  return {
    status: res.status,
    digest: res.headers.get('docker-content-digest'),
    contentType: res.headers.get('content-type'),
    contentLength: res.headers.get('content-length'),
  };
}

export interface ManifestGet {
  status: number;
  body: Buffer;
  digest: string | null;
  contentType: string | null;
}

export async function getManifest(target: Target, repo: string, ref: string): Promise<ManifestGet> {
  const res = await fetch(`${target.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT } });
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()),
    digest: res.headers.get('docker-content-digest'),
    contentType: res.headers.get('content-type'),
  };
}

export interface BlobFetch {
  status: number;
  /** sha256 of the bytes received (after following redirects). */
  digest: string;
  size: number;
  /** sha256 of the gunzipped bytes, when asked for. */
  uncompressedDigest?: string;
}

/** GET /v2/<repo>/blobs/<digest>, following the redirect, hashing the stream as it arrives. */
export async function fetchBlob(target: Target, repo: string, digest: string, opts: { gunzip?: boolean } = {}): Promise<BlobFetch> {
  const res = await fetch(`${target.url}/v2/${repo}/blobs/${digest}`, { redirect: 'follow' });
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => '');
    return { status: res.status, digest: `(no body: ${text.slice(0, 300)})`, size: 0 };
  }
  const hash = createHash('sha256');
  const raw = createHash('sha256');
  let size = 0;
  const count = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  };
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  if (opts.gunzip) {
    await pipeline(body, count, createGunzip(), raw);
    return { status: res.status, digest: `sha256:${hash.digest('hex')}`, size, uncompressedDigest: `sha256:${raw.digest('hex')}` };
  }
  for await (const _chunk of count(body)) {
    // hashed by count()
  }
  return { status: res.status, digest: `sha256:${hash.digest('hex')}`, size };
}

// ---------------------------------------------------------------------------------------------
// OCI layouts written by clients (skopeo copy ... oci:DIR:TAG)


export interface VerifiedImage {
  manifestDigest: string;
  configDigest: string;
  layers: Descriptor[];
}

export interface VerifiedLayoutEntry {
  /** Digest of the entry tagged `tag` in index.json (manifest or index). */
  digest: string;
  mediaType: string;
  /** The image (single manifest) or each child image of an index, all blobs hash-checked. */
  images: VerifiedImage[];
  /** For an index: child descriptors in order. */
  children: Descriptor[];
}

function layoutBlob(dir: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' || !hex) throw new Error(`unexpected digest ${digest}`);
  return join(dir, 'blobs', alg, hex);
}

/** Reads a blob of the layout, checks its bytes hash to its digest and its size, and returns it. */
async function readVerified(dir: string, desc: Descriptor): Promise<Buffer> {
  const bytes = await readFile(layoutBlob(dir, desc.digest));
  const got = sha256(bytes);
  if (got !== desc.digest) throw new Error(`layout blob ${desc.digest} hashes to ${got}`);
  if (bytes.length !== desc.size) throw new Error(`layout blob ${desc.digest} is ${bytes.length} bytes, descriptor says ${desc.size}`);
  return bytes;
}

async function verifyBigBlob(dir: string, desc: Descriptor): Promise<void> {
  const got = await sha256File(layoutBlob(dir, desc.digest));
  if (got !== desc.digest) throw new Error(`layout blob ${desc.digest} hashes to ${got}`);
}

async function verifyImage(dir: string, desc: Descriptor): Promise<VerifiedImage> {
  const manifest = JSON.parse((await readVerified(dir, desc)).toString()) as { config: Descriptor; layers: Descriptor[] };
  await readVerified(dir, manifest.config);
  for (const layer of manifest.layers) await verifyBigBlob(dir, layer);
  return { manifestDigest: desc.digest, configDigest: manifest.config.digest, layers: manifest.layers };
}

/**
 * Finds the entry tagged `tag` in an OCI layout's index.json and hash-checks every blob it reaches
 * (manifest, config, layers; for an index each child image too).
 */
export async function verifyLayout(dir: string, tag: string): Promise<VerifiedLayoutEntry> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no entry tagged ${tag} in ${dir}/index.json: ${JSON.stringify(index)}`);
  if (entry.mediaType.includes('index') || entry.mediaType.includes('manifest.list')) {
    const child = JSON.parse((await readVerified(dir, entry)).toString()) as { manifests: Descriptor[] };
    const images: VerifiedImage[] = [];
    for (const c of child.manifests) images.push(await verifyImage(dir, c));
    return { digest: entry.digest, mediaType: entry.mediaType, images, children: child.manifests };
  }
  return { digest: entry.digest, mediaType: entry.mediaType, images: [await verifyImage(dir, entry)], children: [] };
}
