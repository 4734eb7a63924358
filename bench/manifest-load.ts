// The manifest GET row under load: wrk, 32 connections, against a manifest pushed by skopeo push run 1.
import { cpuSeconds, run } from './proc.ts';
import { median, type Row } from './rows.ts';
import { measure, type Ctx } from './scenarios.ts';
import type { Side } from './servers.ts';
import { OCI_MANIFEST } from '../test/support/oci.ts';

export interface WrkResult {
  rps: number;
  p99ms: number;
  requests: number;
  non2xx: number;
  socketErrors: string | undefined;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p99 = /^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  if (!rps || !p99) throw new Error(`cannot parse wrk output:\n${out}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[p99[2] as 'us' | 'ms' | 's' | 'm'];
  const requests = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors:\s*(.+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p99ms: Number(p99[1]) * scale,
    requests: requests ? Number(requests[1]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock?.[1]?.trim(),
  };
}


/**
 * wrk against GET /v2/bench/img1/manifests/v1 (pushed by skopeoPush run 1): an untimed 2 s warm-up
 * per registry, then `rps.runsWanted` runs of `seconds` each, the order rotating (measure). Each run
 * gives a req/s figure and a p99 latency.
 */
export async function manifestLoad(ctx: Ctx, rps: Row, p99: Row, pushed: Row, seconds: number): Promise<void> {
  const usPerRequest: Partial<Record<Side, number[]>> = {};
  await measure(ctx, rps, rps.runsWanted, async (t, i) => {
    if ((pushed.runs[t.side]?.length ?? 0) < 1) throw new Error('bench/img1:v1 was not pushed');
    const url = `${t.url}/v2/bench/img1/manifests/v1`;
    if (i === 0) {
      const probe = await run('curl', ['-sS', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Accept: ${OCI_MANIFEST}`, url]);
      if (probe.stdout.trim() !== '200') throw new Error(`manifest GET answered ${probe.stdout.trim()}`);
    }
    const d = i === 0 ? 2 : seconds;
    const cpu0 = await cpuSeconds(t.pid);
    const r = await run('wrk', ['-t2', '-c32', `-d${d}s`, '--latency', '-H', `Accept: ${OCI_MANIFEST}`, url], { timeoutMs: (d + 30) * 1000 });
    const cpu1 = await cpuSeconds(t.pid);
    const w = parseWrk(r.stdout);
    if (i === 0) return w.rps;
    if (cpu0 !== undefined && cpu1 !== undefined && w.requests > 0) (usPerRequest[t.side] ??= []).push(((cpu1 - cpu0) / w.requests) * 1e6);
    (p99.runs[t.side] ??= []).push(w.p99ms);
    if (w.non2xx > 0) rps.notes.push(`${t.side} run ${i}: ${w.non2xx} of ${w.requests} responses were not 2xx/3xx`);
    if (w.socketErrors) rps.notes.push(`${t.side} run ${i}: socket errors: ${w.socketErrors}`);
    ctx.log(`    p99 ${w.p99ms.toFixed(2)} ms (${w.requests} requests)`);
    return w.rps;
  });
  for (const t of ctx.targets) {
    const err = rps.errors[t.side];
    if (err !== undefined) p99.errors[t.side] = err;
    else if ((p99.runs[t.side]?.length ?? 0) > 0) p99.value[t.side] = median(p99.runs[t.side]!);
    const us = usPerRequest[t.side];
    if (us !== undefined && us.length > 0) rps.notes.push(`${t.side}: server CPU per request ${median(us).toFixed(0)} us (median of the runs)`);
  }
}
