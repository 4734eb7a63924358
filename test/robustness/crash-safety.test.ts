// Crash safety: push complete images, then start many uploads at once (large streamed monolithic PUTs,
// a monolithic POST, chunked PATCH sequences, manifest PUTs) and SIGKILL the server while they are in
// flight; restart on the same data dir and check that everything acknowledged is intact, nothing
// interrupted is visible, interrupted uploads can be pushed again, and the data dir holds no partial
// content in the content-addressed area and no orphaned upload files. Three cycles, varied timing;
// the last one runs with a short upload TTL to check that leftovers are also cleaned by expiry.
//
// Reproduce with CRASH_SEED=<seed> (printed at start).
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import {
  describeResult,
  fetchDigest,
  headerValue,
  locationPath,
  prng,
  pseudoRandomStream,
  send,
  sha256,
  streamDigest,
  type HttpResult,
  type Rng,
} from './lib.ts';

const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : randomInt(2 ** 31);
console.log(`crash-safety seed: ${SEED} (rerun with CRASH_SEED=${SEED})`);

const MiB = 1024 * 1024;
const CYCLES = 3;
const SHORT_TTL_SECONDS = 4;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

interface BlobSpec {
  label: string;
  key: Buffer;
  size: number;
  digest: string;
}

interface CommittedBlob {
  repo: string;
  digest: string;
  size: number;
  label: string;
}

interface CommittedManifest {
  repo: string;
  tag: string;
  digest: string;
  bytes: Buffer;
}

const withQuery = (path: string, q: string): string => `${path}${path.includes('?') ? '&' : '?'}${q}`;
const body = (spec: BlobSpec, start = 0, length = spec.size): AsyncGenerator<Buffer> => pseudoRandomStream(spec.key, length, MiB, start);

async function makeSpec(rng: Rng, label: string, size: number): Promise<BlobSpec> {
  const key = rng.bytes(32);
  const { digest } = await streamDigest(pseudoRandomStream(key, size));
  return { label, key, size, digest };
}

function manifestFor(config: { digest: string; size: number }, layers: { digest: string; size: number }[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
      ...(annotations ? { annotations } : {}),
    }),
  );
}

/** Lists every regular file under `dir` (relative paths); [] when it does not exist. */
async function walk(dir: string): Promise<string[]> {
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

describe('crash safety: SIGKILL during uploads, restart on the same data dir', { timeout: 180_000 }, () => {
  let dataDir: string;
  let reg: RunningRegistry | undefined;
  let base: URL;
  const rng = prng(SEED);
  const committedBlobs: CommittedBlob[] = [];
  const committedManifests: CommittedManifest[] = [];
  const committedRepos = new Set<string>();
  const started = performance.now();

  const start = async (env?: Record<string, string>): Promise<void> => {
    reg = await startRegistry({ dataDir, env });
    base = new URL(reg.url);
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'registry-crash-'));
    await start();
  });

  after(async () => {
    await reg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  // --- Uploads ------------------------------------------------------------------------------------

  const post = async (repo: string): Promise<{ loc: string; id: string }> => {
    const res = await send(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/` });
    if (res.status !== 202) throw new Error(`POST upload in ${repo} -> ${describeResult(res)}`);
    return { loc: locationPath(base, headerValue(res, 'location')), id: headerValue(res, 'docker-upload-uuid') ?? '' };
  };

  /** Pushes a whole blob with POST + one streamed PUT; throws unless 201. */
  const pushBlob = async (repo: string, spec: BlobSpec, loc?: string): Promise<void> => {
    const where = loc ?? (await post(repo)).loc;
    const res = await send(base, { method: 'PUT', path: withQuery(where, `digest=${spec.digest}`), headers: { 'content-length': String(spec.size), 'content-type': 'application/octet-stream' }, body: body(spec) }, { timeoutMs: 60_000 });
    if (res.status !== 201) throw new Error(`PUT ${spec.label} (${spec.size} bytes) in ${repo} -> ${describeResult(res)}`);
    committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: spec.label });
    committedRepos.add(repo);
  };

  const pushSmall = async (repo: string, bytes: Buffer, how: 'put' | 'patch' | 'post'): Promise<{ digest: string; size: number }> => {
    const digest = sha256(bytes);
    let res: HttpResult;
    if (how === 'post') {
      res = await send(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${digest}`, body: bytes });
    } else {
      const { loc } = await post(repo);
      if (how === 'patch') {
        const half = Math.floor(bytes.length / 2);
        const p1 = await send(base, { method: 'PATCH', path: loc, headers: { 'content-range': `0-${half - 1}` }, body: bytes.subarray(0, half) });
        if (p1.status !== 202) throw new Error(`PATCH -> ${describeResult(p1)}`);
        const loc2 = locationPath(base, headerValue(p1, 'location'));
        const p2 = await send(base, { method: 'PATCH', path: loc2, headers: { 'content-range': `${half}-${bytes.length - 1}` }, body: bytes.subarray(half) });
        if (p2.status !== 202) throw new Error(`PATCH -> ${describeResult(p2)}`);
        res = await send(base, { method: 'PUT', path: withQuery(locationPath(base, headerValue(p2, 'location')), `digest=${digest}`) });
      } else {
        res = await send(base, { method: 'PUT', path: withQuery(loc, `digest=${digest}`), body: bytes });
      }
    }
    if (res.status !== 201) throw new Error(`push ${how} of ${bytes.length} bytes in ${repo} -> ${describeResult(res)}`);
    committedBlobs.push({ repo, digest, size: bytes.length, label: `small ${how}` });
    committedRepos.add(repo);
    return { digest, size: bytes.length };
  };

  const putManifest = async (repo: string, ref: string, bytes: Buffer): Promise<void> => {
    const res = await send(base, { method: 'PUT', path: `/v2/${repo}/manifests/${ref}`, headers: { 'content-type': OCI_MANIFEST }, body: bytes });
    if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${ref} -> ${describeResult(res)}`);
    committedManifests.push({ repo, tag: ref, digest: sha256(bytes), bytes });
    committedRepos.add(repo);
  };

  // --- Verification -----------------------------------------------------------------------------

  const verifyBlob = async (b: CommittedBlob, problems: string[]): Promise<void> => {
    const head = await send(base, { method: 'HEAD', path: `/v2/${b.repo}/blobs/${b.digest}` });
    if (head.status !== 200 || headerValue(head, 'content-length') !== String(b.size)) {
      problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: HEAD -> ${head.status} Content-Length ${headerValue(head, 'content-length')} (expected 200, ${b.size})`);
      return;
    }
    const redirect = await send(base, { method: 'GET', path: `/v2/${b.repo}/blobs/${b.digest}` });
    if (redirect.status !== 307) {
      problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: GET -> ${describeResult(redirect)} (expected 307)`);
      return;
    }
    const got = await fetchDigest(base, locationPath(base, headerValue(redirect, 'location')));
    if (got.status !== 200 || got.digest !== b.digest || got.size !== b.size) {
      problems.push(`committed blob ${b.label} ${b.digest} in ${b.repo}: content is ${got.size} bytes ${got.digest} (status ${got.status}), expected ${b.size} bytes`);
    }
  };

  const verifyManifest = async (m: CommittedManifest, problems: string[]): Promise<void> => {
    for (const ref of [m.tag, m.digest]) {
      const res = await send(base, { method: 'GET', path: `/v2/${m.repo}/manifests/${ref}`, headers: { accept: OCI_MANIFEST } });
      if (res.status !== 200 || !res.body.equals(m.bytes) || headerValue(res, 'docker-content-digest') !== m.digest) {
        problems.push(`committed manifest ${m.repo}:${ref}: GET -> ${describeResult(res)}; Docker-Content-Digest ${headerValue(res, 'docker-content-digest')} (expected 200, ${m.bytes.length} identical bytes, ${m.digest})`);
      }
    }
  };

  const verifyCommitted = async (problems: string[]): Promise<void> => {
    for (const b of committedBlobs) await verifyBlob(b, problems);
    for (const m of committedManifests) await verifyManifest(m, problems);
    const catalog = await send(base, { method: 'GET', path: '/v2/_catalog?n=1000' });
    if (catalog.status !== 200) problems.push(`GET /v2/_catalog -> ${describeResult(catalog)}`);
    else {
      const repos = ((JSON.parse(catalog.body.toString()) as { repositories?: string[] }).repositories ?? []).slice().sort();
      const expected = [...committedRepos].sort();
      if (JSON.stringify(repos) !== JSON.stringify(expected)) problems.push(`catalog lists ${JSON.stringify(repos)}, expected exactly the repositories with committed content ${JSON.stringify(expected)}`);
    }
    const byRepo = new Map<string, Set<string>>();
    for (const m of committedManifests) if (!m.tag.includes(':')) byRepo.set(m.repo, (byRepo.get(m.repo) ?? new Set()).add(m.tag));
    for (const [repo, tags] of byRepo) {
      const res = await send(base, { method: 'GET', path: `/v2/${repo}/tags/list` });
      const listed = res.status === 200 ? ((JSON.parse(res.body.toString()) as { tags?: string[] }).tags ?? []) : [];
      const expected = [...tags].sort();
      if (res.status !== 200 || JSON.stringify(listed) !== JSON.stringify(expected)) problems.push(`tags of ${repo}: ${res.status} ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}`);
    }
  };

  /** The content-addressed area must hold only complete blobs: every file hashes to its own name. */
  const verifyBlobArea = async (problems: string[], when: string): Promise<void> => {
    const area = join(dataDir, 'blobs');
    for (const f of await walk(area)) {
      const name = f.split('/').pop() ?? '';
      const alg = f.split('/')[0];
      if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(name)) {
        problems.push(`${when}: unexpected file in the blob area: blobs/${f}`);
        continue;
      }
      const actual = await fileDigest(join(area, f));
      if (actual !== name) problems.push(`${when}: blobs/${f} holds ${(await stat(join(area, f))).size} bytes hashing to ${actual} (partial or wrong content in the content-addressed area)`);
    }
  };

  // --- The test ---------------------------------------------------------------------------------

  test('committed images survive SIGKILL; interrupted uploads leave nothing visible', async (t) => {
    // Complete images, pushed three different ways.
    for (let i = 0; i < 3; i++) {
      const repo = `crash/img-${i}`;
      const how = (['put', 'patch', 'post'] as const)[i] ?? 'put';
      const config = await pushSmall(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', i })), how);
      const layers = [await pushSmall(repo, rng.bytes(rng.range(100_000, 2 * MiB)), how), await pushSmall(repo, rng.bytes(rng.range(1000, 300_000)), how)];
      const manifest = manifestFor(config, layers);
      await putManifest(repo, 'v1', manifest);
      if (i === 1) await putManifest(repo, sha256(manifest), manifest);
    }
    const img0 = committedManifests[0];
    assert.ok(img0);
    const img0Manifest = JSON.parse(img0.bytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await t.test(`cycle ${cycle + 1}`, async () => {
        const problems: string[] = [];
        const crng = rng.fork(cycle);
        const repo = `crash/inflight-${cycle}`;
        const lastCycle = cycle === CYCLES - 1;
        const chunk = 8 * MiB;
        const specs = {
          big1: await makeSpec(crng, `cycle${cycle}-big1`, crng.range(60, 120) * MiB + crng.int(MiB)),
          big2: await makeSpec(crng, `cycle${cycle}-big2`, crng.range(50, 100) * MiB),
          mono: await makeSpec(crng, `cycle${cycle}-post-digest`, crng.range(20, 40) * MiB + 7),
          chunkedRange: await makeSpec(crng, `cycle${cycle}-chunked-range`, 4 * chunk),
          chunkedStream: await makeSpec(crng, `cycle${cycle}-chunked-stream`, 4 * chunk + 12_345),
        };
        const fraction = [crng.next() * 0.2 + 0.05, crng.next() * 0.3 + 0.3, crng.next() * 0.3 + 0.6][cycle] ?? 0.5;
        console.log(`cycle ${cycle + 1}: kill when big1 (${specs.big1.size} bytes) has sent ${(fraction * 100).toFixed(0)}%`);

        // --- start everything at once ---
        let fire: () => void = () => undefined;
        const trigger = new Promise<void>((resolve) => (fire = resolve));
        let release: () => void = () => undefined;
        const released = new Promise<void>((resolve) => (release = resolve));
        type Outcome = { acked: boolean; sentAll: boolean; error?: string };
        const sessions = new Map<string, { loc: string; id: string; spec: BlobSpec; acked: number; inflight: number; inflightSentAll: boolean; kind: 'put' | 'chunked' }>();

        const bigPut = async (name: 'big1' | 'big2'): Promise<Outcome> => {
          const spec = specs[name];
          let sent = 0;
          try {
            const s = await post(repo);
            sessions.set(name, { ...s, spec, acked: 0, inflight: spec.size, inflightSentAll: false, kind: 'put' });
            const res = await send(base, { method: 'PUT', path: withQuery(s.loc, `digest=${spec.digest}`), headers: { 'content-length': String(spec.size) }, body: body(spec) }, {
              timeoutMs: 60_000,
              onProgress: (n) => {
                sent = n;
                if (name === 'big1' && n >= fraction * spec.size) fire();
              },
            });
            return { acked: res.status === 201, sentAll: true, error: res.status === 201 ? undefined : describeResult(res) };
          } catch (e) {
            const entry = sessions.get(name);
            if (entry) entry.inflightSentAll = sent === spec.size;
            return { acked: false, sentAll: sent === spec.size, error: String(e) };
          } finally {
            if (name === 'big1') fire();
          }
        };
        const monoPost = async (): Promise<Outcome> => {
          const spec = specs.mono;
          let sent = 0;
          try {
            const res = await send(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${spec.digest}`, headers: { 'content-length': String(spec.size) }, body: body(spec) }, { timeoutMs: 60_000, onProgress: (n) => (sent = n) });
            return { acked: res.status === 201, sentAll: true, error: res.status === 201 ? undefined : describeResult(res) };
          } catch (e) {
            return { acked: false, sentAll: sent === spec.size, error: String(e) };
          }
        };
        const chunked = async (name: 'chunkedRange' | 'chunkedStream'): Promise<Outcome> => {
          const spec = specs[name];
          let putSent = false;
          try {
            const s = await post(repo);
            const entry = { ...s, spec, acked: 0, inflight: 0, inflightSentAll: false, kind: 'chunked' as const };
            sessions.set(name, entry);
            let loc = s.loc;
            for (let off = 0; off < spec.size; off += chunk) {
              const len = Math.min(chunk, spec.size - off);
              entry.inflight = len;
              entry.inflightSentAll = false;
              const headers: Record<string, string> = name === 'chunkedRange' ? { 'content-range': `${off}-${off + len - 1}`, 'content-length': String(len) } : {};
              const res = await send(base, { method: 'PATCH', path: loc, headers, body: body(spec, off, len) }, { timeoutMs: 60_000, onProgress: (n) => (entry.inflightSentAll = n === len) });
              if (res.status !== 202) return { acked: false, sentAll: false, error: `PATCH at ${off} -> ${describeResult(res)}` };
              entry.acked += len;
              entry.inflight = 0;
              loc = locationPath(base, headerValue(res, 'location'));
            }
            entry.inflightSentAll = true;
            putSent = true;
            const res = await send(base, { method: 'PUT', path: withQuery(loc, `digest=${spec.digest}`) }, { timeoutMs: 60_000 });
            return { acked: res.status === 201, sentAll: true, error: res.status === 201 ? undefined : describeResult(res) };
          } catch (e) {
            // Once the final PUT is on its way every byte was sent: the server may have committed it.
            return { acked: false, sentAll: putSent, error: String(e) };
          }
        };
        // A manifest PUT whose body stops half-way until the kill.
        const heldTag = `held-${cycle}`;
        const heldManifest = manifestFor(img0Manifest.config, img0Manifest.layers, { cycle: String(cycle), kind: 'held' });
        const held = (async (): Promise<Outcome> => {
          try {
            const res = await send(
              base,
              {
                method: 'PUT',
                path: `/v2/${img0.repo}/manifests/${heldTag}`,
                headers: { 'content-type': OCI_MANIFEST, 'content-length': String(heldManifest.length) },
                body: (async function* () {
                  yield heldManifest.subarray(0, Math.floor(heldManifest.length / 2));
                  await released;
                })(),
              },
              { timeoutMs: 60_000 },
            );
            return { acked: res.status === 201, sentAll: false, error: describeResult(res) };
          } catch (e) {
            return { acked: false, sentAll: false, error: String(e) };
          }
        })();

        const ops = {
          big1: bigPut('big1'),
          big2: bigPut('big2'),
          mono: monoPost(),
          chunkedRange: chunked('chunkedRange'),
          chunkedStream: chunked('chunkedStream'),
        };
        const fallback = setTimeout(fire, 20_000);
        await trigger;
        clearTimeout(fallback);
        // A complete manifest PUT racing the kill: either it is acknowledged (then it must survive) or not
        // (then it may be absent, or present and intact: never partial).
        const raceTag = `race-${cycle}`;
        const raceManifest = manifestFor(img0Manifest.config, img0Manifest.layers, { cycle: String(cycle), kind: 'race' });
        const race = send(base, { method: 'PUT', path: `/v2/${img0.repo}/manifests/${raceTag}`, headers: { 'content-type': OCI_MANIFEST }, body: raceManifest }, { timeoutMs: 60_000 }).then(
          (r) => ({ acked: r.status === 201, error: describeResult(r) }),
          (e: unknown) => ({ acked: false, error: String(e) }),
        );
        await new Promise((r) => setTimeout(r, crng.int(40)));
        const killedAt = performance.now();
        await reg?.kill();
        release();
        const outcomes = {
          big1: await ops.big1,
          big2: await ops.big2,
          mono: await ops.mono,
          chunkedRange: await ops.chunkedRange,
          chunkedStream: await ops.chunkedStream,
        };
        const heldOutcome = await held;
        const raceOutcome = await race;
        console.log(
          `cycle ${cycle + 1}: killed at ${((killedAt - started) / 1000).toFixed(1)} s; outcomes: ${Object.entries(outcomes)
            .map(([k, o]) => `${k}=${o.acked ? 'acked' : o.sentAll ? 'unacked(all sent)' : 'interrupted'}`)
            .join(', ')}, held manifest=${heldOutcome.acked ? 'acked' : 'interrupted'}, race manifest=${raceOutcome.acked ? 'acked' : 'unacked'}; ` +
            `chunked acked bytes: range=${sessions.get('chunkedRange')?.acked}, stream=${sessions.get('chunkedStream')?.acked}`,
        );
        if (heldOutcome.acked) problems.push(`the held manifest PUT (half a body) was acknowledged: ${heldOutcome.error}`);

        // --- the data dir right after the crash ---
        await verifyBlobArea(problems, 'after SIGKILL, before restart');
        const uploadsAfterKill = await walk(join(dataDir, 'uploads'));
        const leftoverBytes = (await Promise.all(uploadsAfterKill.map(async (f) => (await stat(join(dataDir, 'uploads', f))).size))).reduce((a, b) => a + b, 0);
        console.log(`cycle ${cycle + 1}: after the kill, uploads/ holds ${uploadsAfterKill.length} file(s), ${leftoverBytes} bytes`);

        // --- restart ---
        // The last cycle's server already runs with a short upload TTL (set at the previous restart).
        const env = cycle >= CYCLES - 2 ? { REGISTRY_UPLOAD_TTL_SECONDS: String(SHORT_TTL_SECONDS), REGISTRY_SWEEP_INTERVAL_SECONDS: '1' } : undefined;
        await start(env);

        // Acknowledged = durable.
        for (const [name, o] of Object.entries(outcomes)) {
          const spec = specs[name as keyof typeof specs];
          if (o.acked) {
            committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: `${spec.label} (acknowledged just before the kill)` });
            committedRepos.add(repo);
          }
        }
        if (raceOutcome.acked) committedManifests.push({ repo: img0.repo, tag: raceTag, digest: sha256(raceManifest), bytes: raceManifest });
        // Ambiguous outcomes first: a blob whose body was sent completely but not acknowledged, and the
        // manifest PUT racing the kill, may have been committed just before the kill; then they must be
        // complete, and count as committed from here on.
        for (const [name, o] of Object.entries(outcomes)) {
          if (o.acked || !o.sentAll) continue;
          const spec = specs[name as keyof typeof specs];
          const head = await send(base, { method: 'HEAD', path: `/v2/${repo}/blobs/${spec.digest}` });
          if (head.status === 200) {
            const b = { repo, digest: spec.digest, size: spec.size, label: `${spec.label} (sent fully, unacknowledged, present)` };
            committedBlobs.push(b);
            committedRepos.add(repo);
          } else if (head.status !== 404) problems.push(`${spec.label}: HEAD -> ${head.status}, expected 404 or 200`);
        }
        if (!raceOutcome.acked) {
          const byTag = await send(base, { method: 'GET', path: `/v2/${img0.repo}/manifests/${raceTag}` });
          const byDigest = await send(base, { method: 'GET', path: `/v2/${img0.repo}/manifests/${sha256(raceManifest)}` });
          if (byTag.status === 200) {
            if (!byTag.body.equals(raceManifest)) problems.push(`unacknowledged manifest ${raceTag} present with different bytes: ${describeResult(byTag)}`);
            if (byDigest.status !== 200) problems.push(`tag ${raceTag} points at a manifest that GET by digest cannot find: ${byDigest.status}`);
            committedManifests.push({ repo: img0.repo, tag: raceTag, digest: sha256(raceManifest), bytes: raceManifest });
          } else if (byTag.status !== 404) problems.push(`unacknowledged manifest ${raceTag}: GET -> ${describeResult(byTag)}, expected 200 or 404`);
        }
        await verifyCommitted(problems);

        // Interrupted blobs are invisible (HEAD 404), and cannot be mounted from here.
        for (const [name, o] of Object.entries(outcomes)) {
          if (o.acked || o.sentAll) continue;
          const spec = specs[name as keyof typeof specs];
          const head = await send(base, { method: 'HEAD', path: `/v2/${repo}/blobs/${spec.digest}` });
          if (head.status !== 404) problems.push(`interrupted blob ${spec.label} ${spec.digest} is visible after restart: HEAD -> ${head.status} Content-Length ${headerValue(head, 'content-length')}`);
          const mount = await send(base, { method: 'POST', path: `/v2/crash/mount-probe/blobs/uploads/?mount=${spec.digest}&from=${repo}` });
          if (mount.status !== 202) problems.push(`interrupted blob ${spec.label} could be mounted from ${repo}: POST mount -> ${mount.status}`);
          else await send(base, { method: 'DELETE', path: locationPath(base, headerValue(mount, 'location')) });
        }
        // Interrupted manifest: no tag, no manifest.
        for (const ref of [heldTag, sha256(heldManifest)]) {
          const res = await send(base, { method: 'GET', path: `/v2/${img0.repo}/manifests/${ref}` });
          if (res.status !== 404) problems.push(`interrupted manifest ${img0.repo}:${ref} is visible after restart: GET -> ${describeResult(res)}`);
        }

        // Upload sessions after the restart: gone, or exactly at the acknowledged offset. In the last cycle
        // (short TTL) wait until every session's TTL has passed: then they must all be gone.
        if (lastCycle) await new Promise((r) => setTimeout(r, Math.max(0, killedAt + (SHORT_TTL_SECONDS + 1) * 1000 - performance.now())));
        const live = new Map<string, { loc: string; spec: BlobSpec; size: number }>();
        for (const [name, s] of sessions) {
          const o = outcomes[name as keyof typeof outcomes];
          if (o.acked) continue;
          const res = await send(base, { method: 'GET', path: s.loc });
          if (res.status === 404) continue;
          // An expired Location token is refused before the session is looked up.
          if (lastCycle && res.status === 400) continue;
          if (res.status !== 204) {
            problems.push(`session ${name} after restart: GET -> ${describeResult(res)}, expected 204 or 404`);
            continue;
          }
          const range = headerValue(res, 'range') ?? '';
          const size = range === '0-0' ? 0 : Number(range.split('-')[1]) + 1;
          const allowed = [s.acked];
          if (s.inflightSentAll && s.kind === 'chunked') allowed.push(s.acked + s.inflight);
          // A session holding 1 byte is also reported as 0-0; only an empty one is expected here.
          if (!allowed.includes(size)) problems.push(`session ${name} after restart reports Range ${range} (${size} bytes), expected ${allowed.map((n) => `${n} bytes`).join(' or ')} (what was acknowledged)`);
          if (lastCycle) problems.push(`session ${name} is still live after restart although its ${SHORT_TTL_SECONDS} s TTL has passed: GET -> 204 Range ${range}`);
          else live.set(name, { loc: locationPath(base, headerValue(res, 'location') ?? s.loc), spec: s.spec, size });
        }

        console.log(`cycle ${cycle + 1}: after restart, live sessions: ${[...live].map(([n, l]) => `${n}@${l.size}`).join(', ') || 'none'}`);
        // Upload files on disk: right after the restart only live sessions may own one.
        const liveIds = new Set([...live.keys()].map((n) => sessions.get(n)?.id));
        const uploadsAfterRestart = await walk(join(dataDir, 'uploads'));
        const orphans = uploadsAfterRestart.filter((f) => !liveIds.has(f));
        if (!lastCycle && orphans.length) problems.push(`upload files not cleaned at restart (no live session owns them): ${orphans.join(', ')} (after the kill there were: ${uploadsAfterKill.join(', ') || 'none'})`);
        if (lastCycle) {
          // Expiry: the short TTL has passed; the sweeper must remove every leftover within a few seconds.
          const deadline = performance.now() + (SHORT_TTL_SECONDS + 4) * 1000;
          let left = uploadsAfterRestart;
          while (left.length && performance.now() < deadline) {
            await new Promise((r) => setTimeout(r, 250));
            left = await walk(join(dataDir, 'uploads'));
          }
          if (left.length) problems.push(`upload files left after their sessions expired (TTL ${SHORT_TTL_SECONDS} s, sweep every 1 s): ${left.join(', ')}`);
        }
        await verifyBlobArea(problems, 'after restart');

        // Interrupted blobs can be pushed again: resume live sessions, fresh pushes for the rest.
        for (const [name, o] of Object.entries(outcomes)) {
          if (o.acked) continue;
          const spec = specs[name as keyof typeof specs];
          if (committedBlobs.some((b) => b.repo === repo && b.digest === spec.digest)) continue;
          const l = live.get(name);
          try {
            if (l && l.size > 0) {
              // Resume the chunked session from where the server says it is.
              const rest = await send(base, { method: 'PATCH', path: l.loc, headers: { 'content-range': `${l.size}-${spec.size - 1}`, 'content-length': String(spec.size - l.size) }, body: body(spec, l.size, spec.size - l.size) }, { timeoutMs: 60_000 });
              if (rest.status !== 202) throw new Error(`resuming PATCH from ${l.size} -> ${describeResult(rest)}`);
              const put = await send(base, { method: 'PUT', path: withQuery(locationPath(base, headerValue(rest, 'location')), `digest=${spec.digest}`) }, { timeoutMs: 60_000 });
              if (put.status !== 201) throw new Error(`PUT completing the resumed session -> ${describeResult(put)}`);
              committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: `${spec.label} (resumed from ${l.size})` });
            } else {
              await pushBlob(repo, spec, l?.loc);
            }
          } catch (e) {
            problems.push(`pushing interrupted blob ${spec.label} again failed: ${(e as Error).message}`);
          }
        }
        committedRepos.add(repo);
        for (const b of committedBlobs.filter((x) => x.repo === repo)) await verifyBlob(b, problems);
        // And the interrupted manifest can now be pushed.
        try {
          await putManifest(img0.repo, heldTag, heldManifest);
        } catch (e) {
          problems.push(`pushing the interrupted manifest again failed: ${(e as Error).message}`);
        }
        console.log(`cycle ${cycle + 1} done at ${((performance.now() - started) / 1000).toFixed(1)} s; ${problems.length} problem(s)`);
        assert.deepEqual(problems, [], `seed ${SEED}, cycle ${cycle + 1}:\n${problems.join('\n')}`);
      });
    }
    // One last look: everything committed over all cycles is still intact, then a clean stop.
    const problems: string[] = [];
    await verifyCommitted(problems);
    assert.deepEqual(problems, [], `seed ${SEED}, final check:\n${problems.join('\n')}`);
  });
});
