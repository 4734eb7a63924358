// The GC Lambda's handler (functions/apps/gc-lambda) against DynamoDB Local + s3rver, driven as the
// GC state machine drives it: each answer fed back in until `done`, one page per invocation. A run
// in steps must do exactly what one run in one process does (collectGarbage, as `npm run gc`), pass
// by pass, on two registries given the same pushes and deletes; a retried step must not redo pages;
// a dry run reports without deleting; bad input is refused.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../functions/core/gc/run.ts';
import { purgePaths, type GcReport } from '../../../functions/core/gc/report.ts';
import { createGcHandler, GcInputError, type GcEvent, type GcStep } from '../../../functions/apps/gc-lambda/handler.ts';
import { GcRunStore, reportKey } from '../../../functions/adapters/s3/gc-runs.ts';
import { call, openBackend, pushImage, startAwsServices, type AwsServices, type GcBackend } from '../../support/gc-backends.ts';

const GRACE_MS = 1000;
const OPTIONS = { graceMs: GRACE_MS, untaggedMs: GRACE_MS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noTimeLeft = { getRemainingTimeInMillis: () => 0 };

let aws: AwsServices;
beforeAll(async () => {
  aws = await startAwsServices();
}, 120_000);
afterAll(async () => aws?.stop());

function handlerFor(b: GcBackend, onDone?: (runId: string, r: GcReport) => void | Promise<void>) {
  const runs = new GcRunStore(b.s3!.client, b.s3!.bucket);
  return { runs, handler: createGcHandler(() => ({ gc: b.gc, runs, options: OPTIONS, pageSize: 1 }), { ...(onDone ? { onDone } : {}) }) };
}

/** A state machine execution: the handler's answer fed back until done; every step's answer. */
async function execute(handler: ReturnType<typeof handlerFor>['handler'], runId: string, input: GcEvent['input'] = {}): Promise<GcStep[]> {
  const steps: GcStep[] = [];
  let event: GcEvent = { runId, seq: 0, input };
  for (;;) {
    const step = await handler(event, noTimeLeft);
    steps.push(step);
    if (step.done) return steps;
    event = { runId: step.runId, seq: step.seq, input };
  }
}

/** Two images in two repositories sharing a layer, one more image whose tag is deleted. */
async function seed(b: GcBackend, layers: Buffer[]): Promise<void> {
  await pushImage(b.registry, 'gc/a', 'keep', [layers[0]!, layers[1]!]);
  await pushImage(b.registry, 'gc/b', 'keep', [layers[0]!, layers[2]!]);
  await pushImage(b.registry, 'gc/a', 'old', [layers[3]!, layers[4]!]);
  await pushImage(b.registry, 'gc/c', 'old', [layers[5]!]);
  for (const ref of ['gc/a/manifests/old', 'gc/c/manifests/old']) expect((await call(b.registry, 'DELETE', `/v2/${ref}`)).status).toBe(202);
}

const comparable = (r: GcReport) => ({ counts: r.counts, bytesFreed: r.bytesFreed, scanned: r.scanned });

describe('GC Lambda handler, in steps, on DynamoDB Local + s3rver', () => {
  it('a run in steps (state saved in S3 and resumed) does what one collectGarbage run does, pass by pass, until the bytes are gone', async () => {
    const layers = Array.from({ length: 6 }, (_, i) => randomBytes(10_000 + i));
    const single = await openBackend('aws', aws);
    const stepped = await openBackend('aws', aws);
    const { handler } = handlerFor(stepped);
    await seed(single, layers);
    await seed(stepped, layers);
    let freed = 0;
    let invocations = 0;
    for (let pass = 0; pass < 8; pass++) {
      await sleep(GRACE_MS + 50);
      const one = await collectGarbage(single.gc, { ...OPTIONS, dryRun: false });
      const steps = await execute(handler, `pass-${pass}`);
      invocations += steps.length;
      expect(steps.length, 'the run took more than one invocation').toBeGreaterThan(2);
      const report = JSON.parse(await (await stepped.s3!.client.send(new GetObjectCommand({ Bucket: stepped.s3!.bucket, Key: reportKey(`pass-${pass}`) }))).Body!.transformToString()) as GcReport;
      expect(comparable(report), `pass ${pass}`).toEqual(comparable(one));
      expect(steps.at(-1)!.bytesFreed).toBe(one.bytesFreed);
      freed += report.bytesFreed;
      if (!Object.keys(one.counts).some((k) => k.startsWith('delete.') || k.startsWith('mark.'))) break;
    }
    // The deleted images' own layers (3, 4, 5) and their configs are gone; the shared and kept stay.
    expect(freed).toBeGreaterThanOrEqual(layers[3]!.length + layers[4]!.length + layers[5]!.length);
    expect((await stepped.stored()).length).toBe((await single.stored()).length);
    expect((await stepped.stored()).map((o) => o.size).sort()).toEqual((await single.stored()).map((o) => o.size).sort());
    expect(invocations).toBeGreaterThan(10);
    // The run's own objects are under gc/, which GC never lists.
    const own = await stepped.s3!.client.send(new ListObjectsV2Command({ Bucket: stepped.s3!.bucket, Prefix: 'gc/' }));
    expect((own.Contents ?? []).length).toBeGreaterThan(0);
    expect((await stepped.stored()).some((o) => o.location.startsWith('gc/'))).toBe(false);
  }, 120_000);

  it('a step retried after it saved answers its saved step again without running pages; an unknown step is refused', async () => {
    const b = await openBackend('aws', aws);
    const { handler, runs } = handlerFor(b);
    await seed(b, Array.from({ length: 6 }, () => randomBytes(3000)));
    const first = await handler({ runId: 'retry', seq: 0 }, noTimeLeft);
    const again = await handler({ runId: 'retry', seq: 0 }, noTimeLeft);
    expect(again).toEqual(first);
    expect((await runs.load('retry'))!.state.report.pages).toBe(1);
    await expect(handler({ runId: 'retry', seq: 5 }, noTimeLeft)).rejects.toThrow(/no saved step 5/);
    await expect(handler({ runId: 'never-started', seq: 2 }, noTimeLeft)).rejects.toThrow(GcInputError);
    // With time left, one invocation runs the whole pass.
    const whole = await handler({ runId: 'whole', seq: 0 }, { getRemainingTimeInMillis: () => 900_000 });
    expect(whole.done).toBe(true);
    expect(whole.seq).toBe(1);
  }, 60_000);

  it('a dry run reports what the next real run deletes and the bytes it frees, and deletes nothing; real runs name the repositories to purge from the CDN', async () => {
    const b = await openBackend('aws', aws);
    const done: GcReport[] = [];
    // Awaited by the handler before it answers (the Lambda purges the CDN there).
    const { handler } = handlerFor(b, async (_, r) => {
      await sleep(20);
      done.push(r);
    });
    const purged = new Set<string>();
    await seed(b, Array.from({ length: 6 }, () => randomBytes(5000)));
    let freed = 0;
    for (let pass = 0; pass < 8; pass++) {
      await sleep(GRACE_MS + 50);
      const before = await b.stored();
      await execute(handler, `dry-${pass}`, { dryRun: true });
      const dry = done.at(-1)!;
      expect(dry.dryRun).toBe(true);
      expect(await b.stored(), 'a dry run deletes nothing').toEqual(before);
      await execute(handler, `real-${pass}`);
      const real = done.at(-1)!;
      expect(real.dryRun).toBe(false);
      expect(comparable(dry), `pass ${pass}`).toEqual(comparable(real));
      expect(purgePaths(dry), 'a dry run purges nothing').toEqual([]);
      for (const p of purgePaths(real)) purged.add(p);
      freed += real.bytesFreed;
      if (!Object.keys(real.counts).some((k) => k.startsWith('delete.') || k.startsWith('mark.'))) break;
    }
    expect(freed).toBeGreaterThan(15_000);
    // gc/a and gc/c lost their deleted images; gc/b lost nothing.
    expect([...purged].sort()).toEqual(['/v2/gc/a/*', '/v2/gc/c/*']);
  }, 120_000);

  it('refuses input that is not a run step', async () => {
    const b = await openBackend('aws', aws);
    const { handler } = handlerFor(b);
    for (const bad of [{}, { runId: '' }, { runId: 'a/b' }, { runId: 'x'.repeat(81) }, { runId: 'ok', seq: -1 }, { runId: 'ok', seq: 1.5 }, { runId: 'ok', seq: '1' }, { runId: 'ok', input: { dryRun: 'yes' } }] as GcEvent[]) {
      await expect(handler(bad, noTimeLeft), JSON.stringify(bad)).rejects.toThrow(GcInputError);
    }
    await expect(handler(null as unknown as GcEvent, noTimeLeft)).rejects.toThrow(GcInputError);
  });
});
