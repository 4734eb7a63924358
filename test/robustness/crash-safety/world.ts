// The registry under test in the crash-safety run: one data dir that outlives SIGKILLs and restarts,
// the ledger of everything the registry acknowledged, and the pushes that fill it.
import { randomInt } from 'node:crypto';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { describeResult, headerValue, locationPath, pseudoRandomStream, send, sha256, streamDigest, withQuery, type HttpResult, type Rng } from '../lib.ts';
import { imageManifest, OCI_MANIFEST, type Descriptor } from '../oci.ts';

export const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : randomInt(2 ** 31);
console.log(`crash-safety seed: ${SEED} (rerun with CRASH_SEED=${SEED})`);

export const MiB = 1024 * 1024;
export const CYCLES = 3;
export const SHORT_TTL_SECONDS = 4;

/** A blob too large to hold in memory: its bytes are the pseudo-random stream of `key`. */
export interface BlobSpec {
  label: string;
  key: Buffer;
  size: number;
  digest: string;
}

export interface CommittedBlob {
  repo: string;
  digest: string;
  size: number;
  label: string;
}

export interface CommittedManifest {
  repo: string;
  tag: string;
  digest: string;
  bytes: Buffer;
}

/** The bytes of `spec` from `start` on (a multiple of 16), `length` of them. */
export const body = (spec: BlobSpec, start = 0, length = spec.size): AsyncGenerator<Buffer> => pseudoRandomStream(spec.key, length, MiB, start);

export async function makeSpec(rng: Rng, label: string, size: number): Promise<BlobSpec> {
  const key = rng.bytes(32);
  const { digest } = await streamDigest(pseudoRandomStream(key, size));
  return { label, key, size, digest };
}

export function manifestFor(config: Descriptor, layers: Descriptor[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(imageManifest(config, layers, annotations)));
}

export class CrashWorld {
  dataDir = '';
  reg: RunningRegistry | undefined;
  readonly committedBlobs: CommittedBlob[] = [];
  readonly committedManifests: CommittedManifest[] = [];
  readonly committedRepos = new Set<string>();
  /** When the run began (for the progress log). */
  readonly started = performance.now();
  #base: URL | undefined;

  /** The running registry's URL (still the old one after a kill, until the restart). */
  get base(): URL {
    if (!this.#base) throw new Error('registry not started');
    return this.#base;
  }

  async start(env?: Record<string, string>): Promise<void> {
    this.reg = await startRegistry({ dataDir: this.dataDir, env });
    this.#base = new URL(this.reg.url);
  }

  async post(repo: string): Promise<{ loc: string; id: string }> {
    const res = await send(this.base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/` });
    if (res.status !== 202) throw new Error(`POST upload in ${repo} -> ${describeResult(res)}`);
    return { loc: locationPath(this.base, headerValue(res, 'location')), id: headerValue(res, 'docker-upload-uuid') ?? '' };
  }

  /** Pushes a whole blob with POST + one streamed PUT; throws unless 201. */
  async pushBlob(repo: string, spec: BlobSpec, loc?: string): Promise<void> {
    const where = loc ?? (await this.post(repo)).loc;
    const res = await send(this.base, { method: 'PUT', path: withQuery(where, `digest=${spec.digest}`), headers: { 'content-length': String(spec.size), 'content-type': 'application/octet-stream' }, body: body(spec) }, { timeoutMs: 60_000 });
    if (res.status !== 201) throw new Error(`PUT ${spec.label} (${spec.size} bytes) in ${repo} -> ${describeResult(res)}`);
    this.committedBlobs.push({ repo, digest: spec.digest, size: spec.size, label: spec.label });
    this.committedRepos.add(repo);
  }

  async pushSmall(repo: string, bytes: Buffer, how: 'put' | 'patch' | 'post'): Promise<{ digest: string; size: number }> {
    const base = this.base;
    const digest = sha256(bytes);
    let res: HttpResult;
    if (how === 'post') {
      res = await send(base, { method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${digest}`, body: bytes });
    } else {
      const { loc } = await this.post(repo);
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
    this.committedBlobs.push({ repo, digest, size: bytes.length, label: `small ${how}` });
    this.committedRepos.add(repo);
    return { digest, size: bytes.length };
  }

  async putManifest(repo: string, ref: string, bytes: Buffer): Promise<void> {
    const res = await send(this.base, { method: 'PUT', path: `/v2/${repo}/manifests/${ref}`, headers: { 'content-type': OCI_MANIFEST }, body: bytes });
    if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${ref} -> ${describeResult(res)}`);
    this.committedManifests.push({ repo, tag: ref, digest: sha256(bytes), bytes });
    this.committedRepos.add(repo);
  }
}
