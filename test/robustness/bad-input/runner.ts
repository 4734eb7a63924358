// Runs the generated cases: a pool of workers draws case numbers, each case gets its own PRNG and a
// harness that sends its requests, applies the contract checks and records failures and statuses.
import http from 'node:http';
import { describeRequest, describeResult, headerValue, printable, prng, send, TransportError, type HttpResult, type RequestSpec, type Rng } from '../lib.ts';
import { BUDGET_MS, ONLY_CASE, REQ_TIMEOUT_MS, SEED, TARGET_REQUESTS, WORKERS } from './config.ts';
import { ANY, checkResponse, parseError, type Expect } from './contract.ts';

export interface Failure {
  kind: string;
  text: string;
}

export class Stats {
  requests = 0;
  readonly histogram = new Map<string, number>();
  readonly failures: Failure[] = [];
  readonly casesRun = new Map<string, number>();
  /** Statuses seen per variant (printed with ROBUST_VERBOSE=1). */
  readonly perVariant = new Map<string, Map<string, number>>();

  countFor(variant: string, key: string): void {
    const m = this.perVariant.get(variant) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    this.perVariant.set(variant, m);
  }

  count(key: string): void {
    this.histogram.set(key, (this.histogram.get(key) ?? 0) + 1);
  }

  fail(kind: string, text: string): void {
    this.failures.push({ kind, text });
  }

  byKind(pred: (kind: string) => boolean): Failure[] {
    return this.failures.filter((f) => pred(f.kind));
  }
}

export function report(stats: Stats, failures: Failure[], max = 40): string {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) groups.set(f.kind, [...(groups.get(f.kind) ?? []), f]);
  const lines = [`seed ${SEED}: ${failures.length} failure(s) in ${groups.size} kind(s)`];
  for (const [kind, list] of groups) {
    lines.push(`--- ${kind}: ${list.length}`);
    for (const f of list.slice(0, max)) lines.push(`  ${f.text}`);
    if (list.length > max) lines.push(`  ... ${list.length - max} more`);
  }
  return lines.join('\n');
}

export interface Harness {
  req(spec: RequestSpec, expect?: Expect): Promise<HttpResult | undefined>;
  /** Records a failed state check of this case. */
  check(ok: boolean, kind: string, msg: string): void;
  label: string;
}

function harness(stats: Stats, base: URL, agent: http.Agent, label: string, variant: string): Harness {
  return {
    label,
    async req(spec, expect = ANY) {
      stats.requests++;
      let res: HttpResult;
      try {
        res = await send(base, spec, { agent, timeoutMs: REQ_TIMEOUT_MS });
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        const kind = e.code.startsWith('CLIENT_') ? 'test bug (client refused to send)' : e.code === 'TIMEOUT' ? 'hang (no response in time)' : `connection error ${e.code}`;
        stats.count(`error:${e.code}`);
        stats.countFor(variant, `${spec.method} error:${e.code}`);
        stats.fail(kind, `${label}: ${describeRequest(spec)} -> ${e.message} after ${Math.round(e.ms)} ms${e.reusedSocket ? ' (on a reused keep-alive socket)' : ''}`);
        return undefined;
      }
      // A request-target with bytes outside visible ASCII is not valid HTTP/1.1; node's parser rejects it
      // before the registry sees it (the server's clientError handler answers a bare 400). Count those
      // separately: they must be 400, not 5xx, and answered at once; the OCI body rules do not apply.
      if (/[^\x21-\x7e]/.test(spec.path) && res.status === 400 && res.body.length === 0 && headerValue(res, 'docker-distribution-api-version') === undefined) {
        stats.count('400 (HTTP parser)');
        stats.countFor(variant, `${spec.method} 400 (HTTP parser)`);
        return res;
      }
      stats.count(String(res.status));
      stats.countFor(variant, `${spec.method} ${res.status}${res.status >= 400 && spec.method !== 'HEAD' ? ` ${String(parseError(res).code ?? '')}` : ''}`);
      for (const p of checkResponse(spec, res, expect)) {
        stats.fail(p.kind, `${label}: ${describeRequest(spec)} -> ${p.msg}; got ${describeResult(res)}`);
      }
      return res;
    },
    check(ok, kind, msg) {
      if (!ok) stats.fail(kind, `${label}: ${msg}`);
    },
  };
}

/** One kind of bad input: the first pass runs each once, then they are drawn at random. */
export interface Variant {
  name: string;
  run(rng: Rng, h: Harness): Promise<void>;
}

/**
 * Runs case 0, 1, 2, ... (each variant once, then random ones with random parameters from the case's
 * own PRNG) on WORKERS connections until the request target or the time budget is reached, or only
 * case ROBUST_CASE; prints the summary.
 */
export async function runCases(stats: Stats, base: URL, variants: Variant[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const started = performance.now();
  let next = ONLY_CASE ?? 0;
  const runCase = async (i: number): Promise<void> => {
    const rng = prng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) | 0);
    const variant = i < variants.length ? (variants[i] as Variant) : rng.pick(variants);
    stats.casesRun.set(variant.name, (stats.casesRun.get(variant.name) ?? 0) + 1);
    const h = harness(stats, base, agent, `case #${i} [${variant.name}] seed=${SEED}`, variant.name);
    try {
      await variant.run(rng, h);
    } catch (e) {
      stats.fail('test bug (exception in case)', `${h.label}: ${(e as Error).stack ?? String(e)}`);
    }
  };
  const worker = async (): Promise<void> => {
    while (stats.requests < TARGET_REQUESTS && performance.now() - started < BUDGET_MS) {
      const i = next++;
      await runCase(i);
      if (ONLY_CASE !== undefined) return;
    }
  };
  try {
    await Promise.all(Array.from({ length: ONLY_CASE !== undefined ? 1 : WORKERS }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const hist = [...stats.histogram.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
  console.log(`seed ${SEED}: ${stats.requests} requests in ${next - (ONLY_CASE ?? 0)} cases (${variants.length} variants) in ${seconds.toFixed(1)} s`);
  console.log(`status histogram: ${hist.join(', ')}`);
  const notRun = variants.filter((v) => !stats.casesRun.has(v.name)).map((v) => v.name);
  if (notRun.length && ONLY_CASE === undefined) console.log(`variants not reached: ${notRun.length}`);
  if (process.env.ROBUST_VERBOSE) {
    for (const [name, m] of [...stats.perVariant].sort(([a], [b]) => a.localeCompare(b))) {
      console.log(`  ${printable(name)}: ${[...m].map(([k, n]) => `${k} x${n}`).join(', ')}`);
    }
  }
  if (stats.failures.length) console.log(report(stats, stats.failures, 15));
}
