// The workload of one crash cycle: large streamed monolithic PUTs, a monolithic POST, two chunked PATCH
// sequences and two manifest PUTs (one held half-way, one racing) all in flight when the server gets
// SIGKILL once big1 has sent a given fraction of its body. Records what was acknowledged.
import { describeResult, headerValue, locationPath, send, withQuery, type HttpResult, type Rng } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { body, makeSpec, manifestFor, MiB, type BlobSpec, type CommittedManifest, type CrashWorld } from './world.ts';

export type SpecName = 'big1' | 'big2' | 'mono' | 'chunkedRange' | 'chunkedStream';

export interface Outcome {
  acked: boolean;
  /** Every byte of the body was sent (the server may have committed it even without an answer). */
  sentAll: boolean;
  error?: string;
}

/** An upload session of the workload, and how far it got. */
export interface Session {
  loc: string;
  id: string;
  spec: BlobSpec;
  /** Bytes the server acknowledged. */
  acked: number;
  /** Bytes of the request in flight, and whether all of them were sent. */
  inflight: number;
  inflightSentAll: boolean;
  kind: 'put' | 'chunked';
}

export interface CrashRun {
  cycle: number;
  /** The repository of the in-flight blobs. */
  repo: string;
  /** The repository of the held and the racing manifest PUT. */
  manifestRepo: string;
  specs: Record<SpecName, BlobSpec>;
  sessions: Map<string, Session>;
  outcomes: Record<SpecName, Outcome>;
  heldTag: string;
  heldManifest: Buffer;
  heldOutcome: Outcome;
  raceTag: string;
  raceManifest: Buffer;
  raceOutcome: { acked: boolean; error: string };
  killedAt: number;
}

const settled = (res: HttpResult): Outcome => ({ acked: res.status === 201, sentAll: true, error: res.status === 201 ? undefined : describeResult(res) });

/** The outcomes in workload order, with the blob each one was about. */
export const eachOutcome = (run: CrashRun): [SpecName, Outcome, BlobSpec][] => Object.entries(run.outcomes).map(([name, o]) => [name as SpecName, o, run.specs[name as SpecName]]);

/** Starts the whole workload at once in `crash/inflight-<cycle>`, kills the server mid-way, and reports. */
export async function crashDuringUploads(w: CrashWorld, crng: Rng, cycle: number, img0: CommittedManifest): Promise<CrashRun> {
  const img0Manifest = JSON.parse(img0.bytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  const repo = `crash/inflight-${cycle}`;
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
  const sessions = new Map<string, Session>();

  const bigPut = async (name: 'big1' | 'big2'): Promise<Outcome> => {
    const spec = specs[name];
    let sent = 0;
    try {
      const s = await w.post(repo);
      sessions.set(name, { ...s, spec, acked: 0, inflight: spec.size, inflightSentAll: false, kind: 'put' });
      const res = await send(w.base, { method: 'PUT', path: withQuery(s.loc, `digest=${spec.digest}`), headers: { 'content-length': String(spec.size) }, body: body(spec) }, {
        timeoutMs: 60_000,
        onProgress: (n) => {
          sent = n;
          if (name === 'big1' && n >= fraction * spec.size) fire();
        },
      });
      return settled(res);
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
      const res = await send(w.base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${spec.digest}`, headers: { 'content-length': String(spec.size) }, body: body(spec) }, { timeoutMs: 60_000, onProgress: (n) => (sent = n) });
      return settled(res);
    } catch (e) {
      return { acked: false, sentAll: sent === spec.size, error: String(e) };
    }
  };
  const chunked = async (name: 'chunkedRange' | 'chunkedStream'): Promise<Outcome> => {
    const spec = specs[name];
    let putSent = false;
    try {
      const s = await w.post(repo);
      const entry = { ...s, spec, acked: 0, inflight: 0, inflightSentAll: false, kind: 'chunked' as const };
      sessions.set(name, entry);
      let loc = s.loc;
      for (let off = 0; off < spec.size; off += chunk) {
        const len = Math.min(chunk, spec.size - off);
        entry.inflight = len;
        entry.inflightSentAll = false;
        const headers: Record<string, string> = name === 'chunkedRange' ? { 'content-range': `${off}-${off + len - 1}`, 'content-length': String(len) } : {};
        const res = await send(w.base, { method: 'PATCH', path: loc, headers, body: body(spec, off, len) }, { timeoutMs: 60_000, onProgress: (n) => (entry.inflightSentAll = n === len) });
        if (res.status !== 202) return { acked: false, sentAll: false, error: `PATCH at ${off} -> ${describeResult(res)}` };
        entry.acked += len;
        entry.inflight = 0;
        loc = locationPath(w.base, headerValue(res, 'location'));
      }
      entry.inflightSentAll = true;
      putSent = true;
      const res = await send(w.base, { method: 'PUT', path: withQuery(loc, `digest=${spec.digest}`) }, { timeoutMs: 60_000 });
      return settled(res);
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
        w.base,
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
  const race = send(w.base, { method: 'PUT', path: `/v2/${img0.repo}/manifests/${raceTag}`, headers: { 'content-type': OCI_MANIFEST }, body: raceManifest }, { timeoutMs: 60_000 }).then(
    (r) => ({ acked: r.status === 201, error: describeResult(r) }),
    (e: unknown) => ({ acked: false, error: String(e) }),
  );
  await new Promise((r) => setTimeout(r, crng.int(40)));
  const killedAt = performance.now();
  await w.reg?.kill();
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
    `cycle ${cycle + 1}: killed at ${((killedAt - w.started) / 1000).toFixed(1)} s; outcomes: ${Object.entries(outcomes)
      .map(([k, o]) => `${k}=${o.acked ? 'acked' : o.sentAll ? 'unacked(all sent)' : 'interrupted'}`)
      .join(', ')}, held manifest=${heldOutcome.acked ? 'acked' : 'interrupted'}, race manifest=${raceOutcome.acked ? 'acked' : 'unacked'}; ` +
      `chunked acked bytes: range=${sessions.get('chunkedRange')?.acked}, stream=${sessions.get('chunkedStream')?.acked}`,
  );
  return { cycle, repo, manifestRepo: img0.repo, specs, sessions, outcomes, heldTag, heldManifest, heldOutcome, raceTag, raceManifest, raceOutcome, killedAt };
}
