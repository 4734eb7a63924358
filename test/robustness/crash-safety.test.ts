// Crash safety: push complete images, then start many uploads at once (large streamed monolithic PUTs,
// a monolithic POST, chunked PATCH sequences, manifest PUTs) and SIGKILL the server while they are in
// flight; restart on the same data dir and check that everything acknowledged is intact, nothing
// interrupted is visible, interrupted uploads can be pushed again, and the data dir holds no partial
// content in the content-addressed area and no orphaned upload files. Three cycles, varied timing;
// the last one runs with a short upload TTL to check that leftovers are also cleaned by expiry.
//
// Reproduce with CRASH_SEED=<seed> (printed at start).
// The workload is in crash-safety/workload.ts, the checks after the restart in crash-safety/recovery.ts.
import { describe, beforeAll, afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng, sha256 } from './lib.ts';
import { checkInterrupted, checkSessions, checkUploadFiles, inspectAfterKill, pushAgain, settleOutcomes } from './crash-safety/recovery.ts';
import { verifyBlobArea, verifyCommitted } from './crash-safety/verify.ts';
import { crashDuringUploads } from './crash-safety/workload.ts';
import { CrashWorld, CYCLES, manifestFor, MiB, SEED, SHORT_TTL_SECONDS } from './crash-safety/world.ts';

describe('crash safety: SIGKILL during uploads, restart on the same data dir', { timeout: 180_000 }, () => {
  const w = new CrashWorld();
  const rng = prng(SEED);

  beforeAll(async () => {
    w.dataDir = await mkdtemp(join(tmpdir(), 'registry-crash-'));
    await w.start();
  });

  afterAll(async () => {
    await w.reg?.stop();
    if (w.dataDir) await rm(w.dataDir, { recursive: true, force: true });
  });

  // Was one node:test test with a subtest per cycle; now the same steps as consecutive tests of this
  // suite (vitest runs them in order): the images, each cycle, then the final check.
  let img0: (typeof w.committedManifests)[number] | undefined;

  test('committed images survive SIGKILL; interrupted uploads leave nothing visible: push complete images', async () => {
    // Complete images, pushed three different ways.
    for (let i = 0; i < 3; i++) {
      const repo = `crash/img-${i}`;
      const how = (['put', 'patch', 'post'] as const)[i] ?? 'put';
      const config = await w.pushSmall(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', i })), how);
      const layers = [await w.pushSmall(repo, rng.bytes(rng.range(100_000, 2 * MiB)), how), await w.pushSmall(repo, rng.bytes(rng.range(1000, 300_000)), how)];
      const manifest = manifestFor(config, layers);
      await w.putManifest(repo, 'v1', manifest);
      if (i === 1) await w.putManifest(repo, sha256(manifest), manifest);
    }
    img0 = w.committedManifests[0];
    assert.ok(img0);
  });

  const SHORT_TTL_ENV = { REGISTRY_UPLOAD_TTL_SECONDS: String(SHORT_TTL_SECONDS), REGISTRY_SWEEP_INTERVAL_SECONDS: '1' };
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    test(`cycle ${cycle + 1}`, async () => {
      assert.ok(img0, 'the complete images were pushed');
      const problems: string[] = [];
      const lastCycle = cycle === CYCLES - 1;
      if (lastCycle) {
        // The last cycle's sessions are made by a server with a short upload TTL, and expire while it
        // is down. Started cleanly here, so that no session of an earlier cycle straddles the change
        // of TTL (one made under the long TTL and resumed under the short one).
        await w.reg?.stop();
        await w.start(SHORT_TTL_ENV);
      }
      const run = await crashDuringUploads(w, rng.fork(cycle), cycle, img0);
      if (run.heldOutcome.acked) problems.push(`the held manifest PUT (half a body) was acknowledged: ${run.heldOutcome.error}`);

      // --- the data dir right after the crash ---
      const uploadsAfterKill = await inspectAfterKill(w, cycle, problems);

      // --- restart ---
      await w.start(lastCycle ? SHORT_TTL_ENV : undefined);

      await settleOutcomes(w, run, problems);
      await verifyCommitted(w, problems);
      await checkInterrupted(w, run, problems);
      const live = await checkSessions(w, run, lastCycle, problems);
      await checkUploadFiles(w, run, live, uploadsAfterKill, lastCycle, problems);
      await verifyBlobArea(w, problems, 'after restart');
      await pushAgain(w, run, live, problems);
      console.log(`cycle ${cycle + 1} done at ${((performance.now() - w.started) / 1000).toFixed(1)} s; ${problems.length} problem(s)`);
      assert.deepEqual(problems, [], `seed ${SEED}, cycle ${cycle + 1}:\n${problems.join('\n')}`);
    });
  }

  test('committed images survive SIGKILL; interrupted uploads leave nothing visible: final check', async () => {
    // One last look: everything committed over all cycles is still intact, then a clean stop.
    const problems: string[] = [];
    await verifyCommitted(w, problems);
    assert.deepEqual(problems, [], `seed ${SEED}, final check:\n${problems.join('\n')}`);
  });
});
