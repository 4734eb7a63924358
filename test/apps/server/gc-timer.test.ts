// GC on a timer in `npm start` (REGISTRY_GC_INTERVAL, issue 16 item 3): started the README's way, an
// image pushed over HTTP, its tag deleted; the timer's runs take the blob files off the disk (the
// blocks the data dir uses go down by the layer), one log line per run, never two runs at once; the
// tagged image still pulls whole. Bad settings are refused with the setting named.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../../functions/apps/server/config.ts';
import { ConfigError } from '../../../functions/config/config-error.ts';
import { killGroup, npmStart, waitUntil, type NpmStarted } from '../../support/npm-start.ts';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from '../../support/oci.ts';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Bytes of disk the files under `dir` take (allocated blocks, not apparent sizes). */
async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).blocks * 512;
  }
  return total;
}

async function push(url: string, repo: string, tag: string, layer: Buffer): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
  for (const b of [config, layer]) {
    const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', body: b, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status, await r.text()).toBe(201);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.length }],
  });
  const r = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
  expect(r.status, await r.text()).toBe(201);
}

describe('GC timer in npm start', () => {
  let started: NpmStarted | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    killGroup(started?.npm.pid);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('frees the disk space of a deleted image, one log line per run, runs never overlapping', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'registry-gc-timer-'));
    started = await npmStart(dataDir, { REGISTRY_GC_INTERVAL: '1s', REGISTRY_GC_GRACE: '1s', REGISTRY_GC_UNTAGGED: '1s' });
    const { url } = started;
    const gone = randomBytes(8 * 1024 * 1024);
    const kept = randomBytes(1024 * 1024);
    await push(url, 'timer/app', 'old', gone);
    await push(url, 'timer/app', 'new', kept);
    const blobFile = join(dataDir, 'blobs', 'sha256', sha256(gone).slice(7, 9), sha256(gone).slice(7));
    expect((await stat(blobFile)).size).toBe(gone.length);
    const before = await diskBytes(join(dataDir, 'blobs'));
    expect((await fetch(`${url}/v2/timer/app/manifests/old`, { method: 'DELETE' })).status).toBe(202);
    // manifest, then its links, then the blob record and the file: a few runs a grace apart.
    await waitUntil(async () => !(await stat(blobFile).then(() => true, () => false)), 45_000, 'the deleted layer\'s file is removed');
    const after = await diskBytes(join(dataDir, 'blobs'));
    expect(before - after).toBeGreaterThanOrEqual(gone.length);
    const layer = await fetch(`${url}/v2/timer/app/blobs/${sha256(kept)}`);
    expect(Buffer.from(await layer.arrayBuffer()).equals(kept)).toBe(true);
    expect((await fetch(`${url}/v2/timer/app/manifests/old`)).status).toBe(404);
    const runs = started.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; startedAt: number; ms: number; bytesFreed: number }).filter((e) => e.msg === 'gc run');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt, 'a run starts after the one before ended').toBeGreaterThanOrEqual(runs[i - 1]!.startedAt + runs[i - 1]!.ms);
    expect(runs.reduce((n, r) => n + r.bytesFreed, 0)).toBeGreaterThanOrEqual(gone.length);
    expect(started.lines.some((l) => l.includes('gc run failed'))).toBe(false);
  }, 90_000);

  it('is off by default; a bad interval or a grace below 1 s is refused naming the setting', () => {
    expect(readConfig({}, '/tmp/d').gc).toBeUndefined();
    expect(readConfig({ REGISTRY_GC_INTERVAL: '0' }, '/tmp/d').gc).toBeUndefined();
    expect(readConfig({ REGISTRY_GC_INTERVAL: '1h' }, '/tmp/d').gc).toEqual({ intervalMs: 3_600_000, graceMs: 6 * 3_600_000, untaggedMs: 86_400_000 });
    for (const [env, message] of [
      [{ REGISTRY_GC_INTERVAL: 'daily' }, /REGISTRY_GC_INTERVAL must be a duration/],
      [{ REGISTRY_GC_INTERVAL: '500ms' }, /REGISTRY_GC_INTERVAL must be from 1s/],
      [{ REGISTRY_GC_INTERVAL: '30d' }, /REGISTRY_GC_INTERVAL must be from 1s to 2147483s/],
      [{ REGISTRY_GC_INTERVAL: '1h', REGISTRY_GC_GRACE: '0' }, /REGISTRY_GC_GRACE must be at least 1s/],
      [{ REGISTRY_GC_INTERVAL: '1h', REGISTRY_GC_UNTAGGED: 'x' }, /REGISTRY_GC_UNTAGGED must be a duration/],
    ] as const) {
      expect(() => readConfig(env, '/tmp/d'), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => readConfig(env, '/tmp/d')).toThrow(message);
    }
  });
});
