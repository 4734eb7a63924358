// Verification of the registry's state: every acknowledged blob and manifest is intact and listed,
// and the content-addressed area on disk holds only complete blobs.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeResult, fetchDigest, headerValue, locationPath, send } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import type { CommittedBlob, CommittedManifest, CrashWorld } from './world.ts';

/** Lists every regular file under `dir` (relative paths); [] when it does not exist. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await visit(p);
      else out.push(relative(dir, p));
    }
  };
  await visit(dir);
  return out;
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

export async function verifyBlob(w: CrashWorld, b: CommittedBlob, problems: string[]): Promise<void> {
  const head = await send(w.base, { method: 'HEAD', path: `/v2/${b.repo}/blobs/${b.digest}` });
  if (head.status !== 200 || headerValue(head, 'content-length') !== String(b.size)) {
    problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: HEAD -> ${head.status} Content-Length ${headerValue(head, 'content-length')} (expected 200, ${b.size})`);
    return;
  }
  const redirect = await send(w.base, { method: 'GET', path: `/v2/${b.repo}/blobs/${b.digest}` });
  if (redirect.status !== 307) {
    problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: GET -> ${describeResult(redirect)} (expected 307)`);
    return;
  }
  const got = await fetchDigest(w.base, locationPath(w.base, headerValue(redirect, 'location')));
  if (got.status !== 200 || got.digest !== b.digest || got.size !== b.size) {
    problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: content is ${got.size} bytes ${got.digest} (status ${got.status}), expected ${b.size} bytes`);
  }
}

export async function verifyManifest(w: CrashWorld, m: CommittedManifest, problems: string[]): Promise<void> {
  for (const ref of [m.tag, m.digest]) {
    const res = await send(w.base, { method: 'GET', path: `/v2/${m.repo}/manifests/${ref}`, headers: { accept: OCI_MANIFEST } });
    if (res.status !== 200 || !res.body.equals(m.bytes) || headerValue(res, 'docker-content-digest') !== m.digest) {
      problems.push(`committed manifest ${m.repo}:${ref}: GET -> ${describeResult(res)}; Docker-Content-Digest ${headerValue(res, 'docker-content-digest')} (expected 200, ${m.bytes.length} identical bytes, ${m.digest})`);
    }
  }
}

export async function verifyCommitted(w: CrashWorld, problems: string[]): Promise<void> {
  for (const b of w.committedBlobs) await verifyBlob(w, b, problems);
  for (const m of w.committedManifests) await verifyManifest(w, m, problems);
  const catalog = await send(w.base, { method: 'GET', path: '/v2/_catalog?n=1000' });
  if (catalog.status !== 200) problems.push(`GET /v2/_catalog -> ${describeResult(catalog)}`);
  else {
    const repos = ((JSON.parse(catalog.body.toString()) as { repositories?: string[] }).repositories ?? []).slice().sort();
    const expected = [...w.committedRepos].sort();
    if (JSON.stringify(repos) !== JSON.stringify(expected)) problems.push(`catalog lists ${JSON.stringify(repos)}, expected exactly the repositories with committed content ${JSON.stringify(expected)}`);
  }
  const byRepo = new Map<string, Set<string>>();
  for (const m of w.committedManifests) if (!m.tag.includes(':')) byRepo.set(m.repo, (byRepo.get(m.repo) ?? new Set()).add(m.tag));
  for (const [repo, tags] of byRepo) {
    const res = await send(w.base, { method: 'GET', path: `/v2/${repo}/tags/list` });
    const listed = res.status === 200 ? ((JSON.parse(res.body.toString()) as { tags?: string[] }).tags ?? []) : [];
    const expected = [...tags].sort();
    if (res.status !== 200 || JSON.stringify(listed) !== JSON.stringify(expected)) problems.push(`tags of ${repo}: ${res.status} ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}`);
  }
}

/**
 * The content-addressed area must hold only complete blobs: every file hashes to its own name. A
 * later copy of a blob (`<hex>.<16 hex>`, written beside the content-addressed file when two uploads
 * of one digest finish together, fs-blob-store.ts #install) must hash to its digest too; one that a
 * crash left unrecorded is garbage for the GC, not a half-written blob.
 */
export async function verifyBlobArea(w: CrashWorld, problems: string[], when: string): Promise<void> {
  const area = join(w.dataDir, 'blobs');
  for (const f of await walk(area)) {
    const file = f.split('/').pop() ?? '';
    const alg = f.split('/')[0];
    const m = /^([a-f0-9]{64})(\.[a-f0-9]{16})?$/.exec(file);
    if (alg !== 'sha256' || !m) {
      problems.push(`${when}: unexpected file in the blob area: blobs/${f}`);
      continue;
    }
    const name = m[1]!;
    const actual = await fileDigest(join(area, f));
    if (actual !== name) problems.push(`${when}: blobs/${f} holds ${(await stat(join(area, f))).size} bytes hashing to ${actual} (partial or wrong content in the content-addressed area)`);
  }
}
