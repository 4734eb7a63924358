// After the crash: what the data dir holds right after SIGKILL, and after the restart that everything
// acknowledged is durable, nothing interrupted is visible, upload sessions and files are at the
// acknowledged state (or expired), and interrupted uploads can be pushed again.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, headerValue, locationPath, send, sha256, withQuery } from '../lib.ts';
import { verifyBlob, verifyBlobArea, walk } from './verify.ts';
import { eachOutcome, type CrashRun } from './workload.ts';
import { body, SHORT_TTL_SECONDS, type BlobSpec, type CrashWorld } from './world.ts';

/** A session that survived the restart, with the size the server reports. */
export type LiveSessions = Map<string, { loc: string; spec: BlobSpec; size: number }>;

/** Checks the blob area right after the kill; returns the files left in uploads/. */
export async function inspectAfterKill(w: CrashWorld, cycle: number, problems: string[]): Promise<string[]> {
  await verifyBlobArea(w, problems, 'after SIGKILL, before restart');
  const uploadsAfterKill = await walk(join(w.dataDir, 'uploads'));
  const leftoverBytes = (await Promise.all(uploadsAfterKill.map(async (f) => (await stat(join(w.dataDir, 'uploads', f))).size))).reduce((a, b) => a + b, 0);
  console.log(`cycle ${cycle + 1}: after the kill, uploads/ holds ${uploadsAfterKill.length} file(s), ${leftoverBytes} bytes`);
  return uploadsAfterKill;
}

/**
 * Acknowledged = durable: adds what was acknowledged to the ledger, and settles the ambiguous outcomes
 * (a body sent fully but unanswered, the manifest PUT racing the kill).
 */
export async function settleOutcomes(w: CrashWorld, run: CrashRun, problems: string[]): Promise<void> {
  const { repo, manifestRepo, raceTag, raceManifest, raceOutcome } = run;
  for (const [, o, spec] of eachOutcome(run)) {
    if (o.acked) {
      w.committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: `${spec.label} (acknowledged just before the kill)` });
      w.committedRepos.add(repo);
    }
  }
  if (raceOutcome.acked) w.committedManifests.push({ repo: manifestRepo, tag: raceTag, digest: sha256(raceManifest), bytes: raceManifest });
  // Ambiguous outcomes first: a blob whose body was sent completely but not acknowledged, and the
  // manifest PUT racing the kill, may have been committed just before the kill; then they must be
  // complete, and count as committed from here on.
  for (const [, o, spec] of eachOutcome(run)) {
    if (o.acked || !o.sentAll) continue;
    const head = await send(w.base, { method: 'HEAD', path: `/v2/${repo}/blobs/${spec.digest}` });
    if (head.status === 200) {
      const b = { repo, digest: spec.digest, size: spec.size, label: `${spec.label} (sent fully, unacknowledged, present)` };
      w.committedBlobs.push(b);
      w.committedRepos.add(repo);
    } else if (head.status !== 404) problems.push(`${spec.label}: HEAD -> ${head.status}, expected 404 or 200`);
  }
  if (!raceOutcome.acked) {
    const byTag = await send(w.base, { method: 'GET', path: `/v2/${manifestRepo}/manifests/${raceTag}` });
    const byDigest = await send(w.base, { method: 'GET', path: `/v2/${manifestRepo}/manifests/${sha256(raceManifest)}` });
    if (byTag.status === 200) {
      if (!byTag.body.equals(raceManifest)) problems.push(`unacknowledged manifest ${raceTag} present with different bytes: ${describeResult(byTag)}`);
      if (byDigest.status !== 200) problems.push(`tag ${raceTag} points at a manifest that GET by digest cannot find: ${byDigest.status}`);
      w.committedManifests.push({ repo: manifestRepo, tag: raceTag, digest: sha256(raceManifest), bytes: raceManifest });
    } else if (byTag.status !== 404) problems.push(`unacknowledged manifest ${raceTag}: GET -> ${describeResult(byTag)}, expected 200 or 404`);
  }
}

/** Interrupted blobs and the interrupted manifest are invisible after the restart. */
export async function checkInterrupted(w: CrashWorld, run: CrashRun, problems: string[]): Promise<void> {
  const { repo, manifestRepo, heldTag, heldManifest } = run;
  // Interrupted blobs are invisible (HEAD 404), and cannot be mounted from here.
  for (const [, o, spec] of eachOutcome(run)) {
    if (o.acked || o.sentAll) continue;
    const head = await send(w.base, { method: 'HEAD', path: `/v2/${repo}/blobs/${spec.digest}` });
    if (head.status !== 404) problems.push(`interrupted blob ${spec.label} ${spec.digest} is visible after restart: HEAD -> ${head.status} Content-Length ${headerValue(head, 'content-length')}`);
    const mount = await send(w.base, { method: 'POST', path: `/v2/crash/mount-probe/blobs/uploads/?mount=${spec.digest}&from=${repo}` });
    if (mount.status !== 202) problems.push(`interrupted blob ${spec.label} could be mounted from ${repo}: POST mount -> ${mount.status}`);
    else await send(w.base, { method: 'DELETE', path: locationPath(w.base, headerValue(mount, 'location')) });
  }
  // Interrupted manifest: no tag, no manifest.
  for (const ref of [heldTag, sha256(heldManifest)]) {
    const res = await send(w.base, { method: 'GET', path: `/v2/${manifestRepo}/manifests/${ref}` });
    if (res.status !== 404) problems.push(`interrupted manifest ${manifestRepo}:${ref} is visible after restart: GET -> ${describeResult(res)}`);
  }
}

/**
 * Upload sessions after the restart: gone, or exactly at the acknowledged offset. In the last cycle
 * (short TTL) waits until every session's TTL has passed: then they must all be gone.
 */
export async function checkSessions(w: CrashWorld, run: CrashRun, lastCycle: boolean, problems: string[]): Promise<LiveSessions> {
  const { cycle, sessions, outcomes, killedAt } = run;
  if (lastCycle) await new Promise((r) => setTimeout(r, Math.max(0, killedAt + (SHORT_TTL_SECONDS + 1) * 1000 - performance.now())));
  const live: LiveSessions = new Map();
  for (const [name, s] of sessions) {
    const o = outcomes[name as keyof typeof outcomes];
    if (o.acked) continue;
    const res = await send(w.base, { method: 'GET', path: s.loc });
    if (res.status === 404) continue;
    if (res.status !== 204) {
      problems.push(`session ${name} after restart: GET -> ${describeResult(res)}, expected 204 or 404`);
      continue;
    }
    const range = headerValue(res, 'range') ?? '';
    const size = range === '0-0' ? 0 : Number(range.split('-')[1]) + 1;
    const allowed = [s.acked];
    // A body that arrived in full may have been stored before the kill even though its answer never
    // came: a PATCH, or the final chunk of a PUT killed between storing the bytes and committing the
    // blob. The session then holds those bytes (still not a blob) and the client can finish it.
    if (s.inflightSentAll) allowed.push(s.acked + s.inflight);
    // A session holding 1 byte is also reported as 0-0; only an empty one is expected here.
    if (!allowed.includes(size)) problems.push(`session ${name} after restart reports Range ${range} (${size} bytes), expected ${allowed.map((n) => `${n} bytes`).join(' or ')} (what was acknowledged)`);
    if (lastCycle) problems.push(`session ${name} is still live after restart although its ${SHORT_TTL_SECONDS} s TTL has passed: GET -> 204 Range ${range}`);
    else live.set(name, { loc: locationPath(w.base, headerValue(res, 'location') ?? s.loc), spec: s.spec, size });
  }

  console.log(`cycle ${cycle + 1}: after restart, live sessions: ${[...live].map(([n, l]) => `${n}@${l.size}`).join(', ') || 'none'}`);
  return live;
}

/** Upload files on disk: right after the restart only live sessions may own one; after expiry, none. */
export async function checkUploadFiles(w: CrashWorld, run: CrashRun, live: LiveSessions, uploadsAfterKill: string[], lastCycle: boolean, problems: string[]): Promise<void> {
  const { sessions } = run;
  const liveIds = new Set([...live.keys()].map((n) => sessions.get(n)?.id));
  const uploadsAfterRestart = await walk(join(w.dataDir, 'uploads'));
  const orphans = uploadsAfterRestart.filter((f) => !liveIds.has(f));
  if (!lastCycle && orphans.length) problems.push(`upload files not cleaned at restart (no live session owns them): ${orphans.join(', ')} (after the kill there were: ${uploadsAfterKill.join(', ') || 'none'})`);
  if (lastCycle) {
    // Expiry: the short TTL has passed; the sweeper must remove every leftover within a few seconds.
    const deadline = performance.now() + (SHORT_TTL_SECONDS + 4) * 1000;
    let left = uploadsAfterRestart;
    while (left.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      left = await walk(join(w.dataDir, 'uploads'));
    }
    if (left.length) problems.push(`upload files left after their sessions expired (TTL ${SHORT_TTL_SECONDS} s, sweep every 1 s): ${left.join(', ')}`);
  }
}

/** Interrupted blobs can be pushed again (resuming live sessions), and so can the interrupted manifest. */
export async function pushAgain(w: CrashWorld, run: CrashRun, live: LiveSessions, problems: string[]): Promise<void> {
  const { repo, manifestRepo, heldTag, heldManifest } = run;
  for (const [name, o, spec] of eachOutcome(run)) {
    if (o.acked) continue;
    if (w.committedBlobs.some((b) => b.repo === repo && b.digest === spec.digest)) continue;
    const l = live.get(name);
    try {
      if (l && l.size > 0) {
        // Resume the session from where the server says it is (nothing left to send if it holds it all).
        let loc = l.loc;
        if (l.size < spec.size) {
          const rest = await send(w.base, { method: 'PATCH', path: l.loc, headers: { 'content-range': `${l.size}-${spec.size - 1}`, 'content-length': String(spec.size - l.size) }, body: body(spec, l.size, spec.size - l.size) }, { timeoutMs: 60_000 });
          if (rest.status !== 202) throw new Error(`resuming PATCH from ${l.size} -> ${describeResult(rest)}`);
          loc = locationPath(w.base, headerValue(rest, 'location'));
        }
        const put = await send(w.base, { method: 'PUT', path: withQuery(loc, `digest=${spec.digest}`) }, { timeoutMs: 60_000 });
        if (put.status !== 201) throw new Error(`PUT completing the resumed session -> ${describeResult(put)}`);
        w.committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: `${spec.label} (resumed from ${l.size})` });
      } else {
        await w.pushBlob(repo, spec, l?.loc);
      }
    } catch (e) {
      problems.push(`pushing interrupted blob ${spec.label} again failed: ${(e as Error).message}`);
    }
  }
  w.committedRepos.add(repo);
  for (const b of w.committedBlobs.filter((x) => x.repo === repo)) await verifyBlob(w, b, problems);
  // And the interrupted manifest can now be pushed.
  try {
    await w.putManifest(manifestRepo, heldTag, heldManifest);
  } catch (e) {
    problems.push(`pushing the interrupted manifest again failed: ${(e as Error).message}`);
  }
}
