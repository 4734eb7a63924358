// The README's backup recipe, run while images are being pushed, and its restore: every tag in the
// restored registry pulls whole (manifest and every blob it names), and the registry works on.
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { projectDir } from '../../support/npm-start.ts';

const sh = promisify(execFile);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const digestOf = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The README's commands, verbatim; run in the project folder with ./data. */
const BACKUP = `mkdir backup
node_modules/.bin/node -e 'new (require("node:sqlite").DatabaseSync)("data/registry.db", { timeout: 10000 }).prepare("VACUUM INTO ?").run("backup/registry.db")'
node_modules/.bin/node -e 'new (require("node:sqlite").DatabaseSync)("data/identity.db", { timeout: 10000 }).prepare("VACUUM INTO ?").run("backup/identity.db")'
node_modules/.bin/node -e 'new (require("node:sqlite").DatabaseSync)("data/audit.db", { timeout: 10000 }).prepare("VACUUM INTO ?").run("backup/audit.db")'
cp -R data/blobs backup/blobs
cp data/secret backup/secret`;
const RESTORE = `mv data data.before-restore
mkdir data
cp backup/registry.db backup/identity.db backup/audit.db backup/secret data/
cp -R backup/blobs data/blobs`;

async function pushBlob(base: string, repo: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = digestOf(bytes);
  const r = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  expect(r.status).toBe(201);
  return { digest, size: bytes.length };
}

async function pushImage(base: string, repo: string, tag: string): Promise<void> {
  const config = await pushBlob(base, repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag })));
  const layer = await pushBlob(base, repo, randomBytes(256 * 1024));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
  const r = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
  expect(r.status).toBe(201);
}

/** Pulls `repo:tag` whole: the manifest and every blob it names, each checked against its digest. */
async function pullsWhole(base: string, repo: string, tag: string): Promise<void> {
  const m = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
  expect(m.status, `${repo}:${tag}`).toBe(200);
  const manifest = (await m.json()) as { config: { digest: string }; layers: { digest: string }[] };
  for (const { digest } of [manifest.config, ...manifest.layers]) {
    const b = await fetch(`${base}/v2/${repo}/blobs/${digest}`);
    expect(b.status, `${repo}:${tag} blob ${digest}`).toBe(200);
    expect(digestOf(Buffer.from(await b.arrayBuffer()))).toBe(digest);
  }
}

describe('backing up ./data while the registry runs, and restoring it', { timeout: 120_000 }, () => {
  it('the recipe here is the README\'s, word for word', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(BACKUP);
    expect(readme).toContain(RESTORE);
  });

  let project: string;
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    // A stand-in project folder: ./data and ./node_modules, as the README's commands expect.
    project = await mkdtemp(join(tmpdir(), 'registry-backup-'));
    await symlink(join(projectDir, 'node_modules'), join(project, 'node_modules'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a backup taken during pushes restores to a registry where every tag pulls whole', async () => {
    registry = await startRegistry({ dataDir: join(project, 'data') });
    await pushImage(registry.url, 'team/app', 'before');

    // Pushes keep going while the backup is taken.
    let pushing = true;
    let pushed = 0;
    const writer = (async () => {
      while (pushing) await pushImage(registry!.url, 'team/app', `during-${pushed++}`);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await sh('sh', ['-ec', BACKUP], { cwd: project });
    await new Promise((r) => setTimeout(r, 300));
    pushing = false;
    await writer;
    await registry.stop();
    registry = undefined;
    expect(pushed).toBeGreaterThan(1);

    await sh('sh', ['-ec', RESTORE], { cwd: project });
    registry = await startRegistry({ dataDir: join(project, 'data') });
    const tags = ((await (await fetch(`${registry.url}/v2/team/app/tags/list?n=1000`)).json()) as { tags: string[] }).tags;
    expect(tags).toContain('before');
    // Some of the pushes during the backup made it in, some came after it; each one that is in is whole.
    expect(tags.length).toBeLessThan(pushed + 1);
    for (const tag of tags) await pullsWhole(registry.url, 'team/app', tag);
    console.log(`backup during pushes: ${tags.length} of ${pushed + 1} tags in the backup, all whole`);

    // The restored registry takes new pushes, and its own signing secret came back with it.
    await pushImage(registry.url, 'team/app', 'after');
    await pullsWhole(registry.url, 'team/app', 'after');
  });
});
