// The GC race (issue 16), on both backends: 20 pushers push overlapping images (shared base layers,
// an index of two platforms, a referrer of the index) and delete and re-push tags, while GC runs over
// and over with a short grace window. Afterwards every tagged image pulls byte-identical, every
// referrer of a kept index is listed, and storage holds nothing that no tagged image needs.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage, type GcOptions } from '../../../functions/core/gc/run.ts';
import type { GcReport } from '../../../functions/core/gc/report.ts';
import { call, openBackend, startAwsServices, type AwsServices, type BackendName, type GcBackend } from '../../support/gc-backends.ts';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from '../../support/oci.ts';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
// The grace window must exceed the longest request (docs/gc.md): a finishing PUT takes its session out
// as it starts, so only the grace window protects the object it writes until it is recorded. On a
// loaded 2-core machine a request here took over 1.5 s (the grace this test had): GC then collected
// the object of an upload still being recorded. 5 s keeps the race the test is about while staying
// above such a request.
const GRACE_MS = 5000;
const OPTIONS: GcOptions = { graceMs: GRACE_MS, untaggedMs: GRACE_MS, dryRun: false };
const PUSHERS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Image {
  repo: string;
  tag: string;
  blobs: Map<string, Buffer>;
  /** digest -> [media type, body]; the index last but one, the referrer last. */
  manifests: [string, string, Buffer][];
  index: string;
  referrer: string;
}

const BASE = [randomBytes(3000), randomBytes(5000)];

function makeImage(i: number): Image {
  const repo = `race/r${i % 4}`;
  const blobs = new Map<string, Buffer>();
  const desc = (mediaType: string, b: Buffer) => {
    blobs.set(sha256(b), b);
    return { mediaType, digest: sha256(b), size: b.length };
  };
  const platform = (arch: string) => json({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: desc(OCI_CONFIG, json({ architecture: arch, os: 'linux', seed: i })),
    layers: [desc(OCI_LAYER_GZIP, BASE[0]!), desc(OCI_LAYER_GZIP, BASE[1]!), desc(OCI_LAYER_GZIP, randomBytes(1000 + i))],
  });
  const children = [platform('amd64'), platform('arm64')];
  const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c, k) => ({ mediaType: OCI_MANIFEST, digest: sha256(c), size: c.length, platform: { architecture: ['amd64', 'arm64'][k], os: 'linux' } })) });
  const referrer = json({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom',
    config: desc('application/vnd.oci.empty.v1+json', Buffer.from('{}')), layers: [desc('application/json', json({ sbom: i }))],
    subject: { mediaType: OCI_INDEX, digest: sha256(index), size: index.length },
  });
  return {
    repo, tag: `t${i}`, blobs, index: sha256(index), referrer: sha256(referrer),
    manifests: [...children.map((c) => [sha256(c), OCI_MANIFEST, c] as [string, string, Buffer]), [sha256(index), OCI_INDEX, index], [sha256(referrer), OCI_MANIFEST, referrer]],
  };
}

/** A request as a client sends it: answered 429 (busy: DynamoDB contention on a shared layer) or 503, it waits and sends it again. */
async function send(b: GcBackend, method: string, url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof call>>> {
  for (let attempt = 0; ; attempt++) {
    const r = await call(b.registry, method, url, body, headers);
    if ((r.status !== 503 && r.status !== 429) || attempt >= 6) return r;
    await sleep(Math.min(2000, 100 * 2 ** attempt));
  }
}

/** Pushes the image as a client does; a push GC raced (a part it needed was collected first) is retried whole, as clients retry. */
async function push(b: GcBackend, img: Image): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    let ok = true;
    for (const [digest, bytes] of img.blobs) {
      const head = await call(b.registry, 'HEAD', `/v2/${img.repo}/blobs/${digest}`);
      if (head.status === 200) continue;
      const r = await send(b, 'POST', `/v2/${img.repo}/blobs/uploads/?digest=${digest}`, bytes);
      expect(r.status, `${r.text} ${b.errors.join('; ')}`).toBe(201);
    }
    for (const [digest, mediaType, body] of img.manifests) {
      const ref = digest === img.index ? img.tag : digest;
      const r = await send(b, 'PUT', `/v2/${img.repo}/manifests/${ref}`, body, { 'content-type': mediaType });
      if (r.status === 404 && r.text.includes('MANIFEST_BLOB_UNKNOWN')) {
        ok = false;
        break;
      }
      expect(r.status, `${r.text} ${b.errors.join('; ')}`).toBe(201);
    }
    if (ok) return attempt;
    if (attempt >= 5) throw new Error(`push of ${img.repo}:${img.tag} kept losing to GC`);
  }
}

async function pusher(b: GcBackend, i: number, finalTags: Map<string, Image>): Promise<number> {
  const img = makeImage(i);
  let retries = await push(b, img);
  // Delete the tag and push again (twice); every third pusher leaves its tag deleted in the end.
  for (let round = 0; round < 2; round++) {
    await sleep(Math.random() * 400);
    expect((await call(b.registry, 'DELETE', `/v2/${img.repo}/manifests/${img.tag}`)).status).toBe(202);
    await sleep(Math.random() * 400);
    if (round === 1 && i % 3 === 0) return retries;
    retries += await push(b, img);
  }
  finalTags.set(`${img.repo}:${img.tag}`, img);
  return retries;
}

async function verify(b: GcBackend, finalTags: Map<string, Image>): Promise<void> {
  const needed = new Set<string>();
  for (const img of finalTags.values()) {
    const idx = await call(b.registry, 'GET', `/v2/${img.repo}/manifests/${img.tag}`, undefined, { accept: OCI_INDEX });
    expect(idx.status, `${img.repo}:${img.tag}`).toBe(200);
    for (const [digest, , body] of img.manifests) {
      const m = await call(b.registry, 'GET', `/v2/${img.repo}/manifests/${digest}`, undefined, { accept: `${OCI_INDEX}, ${OCI_MANIFEST}` });
      expect(m.status, `${img.repo}@${digest}`).toBe(200);
      expect(m.body.equals(body), `${img.repo}@${digest} byte-identical`).toBe(true);
    }
    const refs = await call(b.registry, 'GET', `/v2/${img.repo}/referrers/${img.index}`);
    expect((JSON.parse(refs.text) as { manifests: { digest: string }[] }).manifests.map((d) => d.digest)).toContain(img.referrer);
    for (const [digest, bytes] of img.blobs) {
      const linked = await b.metadata.getLinkedBlob(img.repo, digest);
      expect(linked, `${img.repo} links ${digest}`).toBeDefined();
      expect((await b.read(linked!.location)).equals(bytes), `bytes of ${digest}`).toBe(true);
      needed.add(digest);
    }
  }
  // Nothing else in storage: every stored object is the record of a needed blob.
  const records = new Map<string, string>();
  for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
    const page = await b.metadata.gcBlobs(500, cursor);
    for (const r of page.items) records.set(r.location, r.digest);
    cursor = page.cursor;
  }
  const stray = (await b.stored()).filter((o) => !needed.has(records.get(o.location) ?? ''));
  expect(stray.map((o) => o.location)).toEqual([]);
  expect([...records.values()].filter((d) => !needed.has(d))).toEqual([]);
}

function raceOn(name: BackendName) {
  let aws: AwsServices | undefined;
  beforeAll(async () => {
    if (name === 'aws') aws = await startAwsServices();
  }, 120_000);
  afterAll(async () => aws?.stop());

  it(`${name}: 20 overlapping pushes with tag deletes and re-pushes, GC running throughout: nothing needed is lost, nothing unneeded stays`, async () => {
    const b = await openBackend(name, aws);
    try {
      const finalTags = new Map<string, Image>();
      let done = false;
      const runs: GcReport[] = [];
      const gcLoop = (async () => {
        while (!done) {
          runs.push(await collectGarbage(b.gc, OPTIONS, 7));
          await sleep(100);
        }
      })();
      gcLoop.catch(() => (done = true));
      const retries = await Promise.all(Array.from({ length: PUSHERS }, (_, i) => pusher(b, i, finalTags)));
      done = true;
      await gcLoop;
      expect(runs.length, 'GC ran during the pushes').toBeGreaterThan(2);
      // Quiet now: passes a grace apart until one changes nothing (index -> manifests -> links -> blobs).
      for (let i = 0; i < 12; i++) {
        await sleep(GRACE_MS + 50);
        const r = await collectGarbage(b.gc, OPTIONS);
        runs.push(r);
        if (!Object.entries(r.counts).some(([k, n]) => n > 0 && !k.startsWith('unmark'))) break;
      }
      const deleted = runs.reduce((n, r) => n + (r.counts['delete.blob'] ?? 0), 0);
      expect(deleted, 'blobs of the deleted tags were collected').toBeGreaterThan(0);
      console.log(`${name}: ${runs.length} GC runs, ${deleted} blobs deleted, ${retries.reduce((a, c) => a + c, 0)} pushes retried`);
      await verify(b, finalTags);
    } finally {
      await b.close();
    }
  }, 300_000);
}

describe('GC racing pushes', () => {
  describe('local (SQLite + files)', () => raceOn('local'));
  describe('aws (DynamoDB Local + s3rver)', () => raceOn('aws'));
});
