// The API bundle's cold start, two ways, alternating run by run:
// - "handler init + first request": import of the bundle and its first request in a Node process
//   that has already booted, on whole cores, keys from a file, logs at WARN and metrics off (the
//   figure this bench reported before as "cold start");
// - "cold start at a 1,024 MB Lambda's CPU share": a fresh Node process from its first instruction,
//   pinned to one core under a CFS quota of 0.58 vCPU (cpu-share.ts), the bundle's file dropped from
//   the page cache, keys read from a Secrets Manager stand-in with the SDK (secrets-stand-in.ts),
//   logs at INFO and EMF metrics on, as deployed. What it still leaves out: Lambda's own sandbox and
//   runtime start, TLS and DNS, and the network time of DynamoDB and Secrets Manager (loopback here).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lambdaCpuShare } from './cpu-share.ts';
import { run } from './proc.ts';
import { median, newFact, type Fact } from './rows.ts';
import { orderOf, type Ctx } from './scenarios.ts';
import { startSecretsStandIn } from './secrets-stand-in.ts';

const here = dirname(fileURLToPath(import.meta.url));
const API_MEMORY_MB = 1024;
const KEYS_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:oci-registry/bench/signing-keys-AbCdEf';

interface Cold {
  bootMs: number;
  importMs: number;
  firstRequestMs: number;
  totalMs: number;
  status: number;
}

const ms = (values: number[]): string => `${median(values).toFixed(1)} [${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}]`;

export async function coldStartFacts(ctx: Ctx, bundle: string, awsEnv: Record<string, string>, n: number): Promise<Fact[]> {
  const init = newFact({ id: 'api_handler_init_first_request', label: 'api handler init + first request (import + manifest GET; Node booted, whole cores, key file, WARN logs)', unit: 'ms' });
  const cold = newFact({
    id: 'api_cold_start_lambda_share',
    label: `api cold start at a ${API_MEMORY_MB} MB Lambda's CPU share (fresh process, Secrets Manager stand-in, INFO logs + metrics)`,
    unit: 'ms',
    target: { max: 150, text: '<= 150 ms' },
  });
  const share = await lambdaCpuShare(API_MEMORY_MB);
  const keysFile = awsEnv.REGISTRY_KEYS_FILE;
  const secrets = await startSecretsStandIn(keysFile ? { [KEYS_SECRET_ARN]: await readFile(keysFile, 'utf8') } : {});
  try {
    const script = join(here, 'cold-start.ts');
    const path = '/v2/bench/img1/manifests/v1';
    const deployed = {
      ...awsEnv,
      REGISTRY_KEYS_FILE: '',
      KEYS_SECRET_ARN,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_SERVICE_NAME: 'registry-api',
    };
    const runs: Record<'init' | 'cold', Cold[]> = { init: [], cold: [] };
    const once = async (kind: 'init' | 'cold'): Promise<Cold> => {
      let cmd = process.execPath;
      let args = [script, bundle, path];
      if (kind === 'cold') {
        // Drop the bundle from the page cache: a new Lambda sandbox reads its code afresh.
        await run('dd', [`if=${bundle}`, 'iflag=nocache', 'count=0', 'status=none'], { allowFail: true });
        ({ cmd, args } = share.wrap(cmd, args));
      }
      const r = await run(cmd, args, { env: kind === 'cold' ? deployed : awsEnv, timeoutMs: 30_000 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('COLD '));
      if (!line) throw new Error(`${kind}: no COLD line in the output: ${r.stdout.slice(-500)} ${r.stderr.slice(-500)}`);
      return JSON.parse(line.slice(5)) as Cold;
    };
    for (let i = 0; i < n; i++) {
      for (const kind of orderOf(['init', 'cold'] as const, 0, i)) {
        const c = await once(kind);
        runs[kind].push(c);
        ctx.log(`  ${kind === 'init' ? 'handler init + first request' : 'cold start at the Lambda share'} #${i + 1}: boot ${c.bootMs.toFixed(1)} ms, import ${c.importMs.toFixed(1)} ms, first request ${c.firstRequestMs.toFixed(1)} ms (status ${c.status})`);
      }
    }
    init.runs = runs.init.map((c) => c.totalMs);
    init.value = median(init.runs);
    init.notes.push(`import ${ms(runs.init.map((c) => c.importMs))} ms + first request ${ms(runs.init.map((c) => c.firstRequestMs))} ms; statuses ${[...new Set(runs.init.map((c) => c.status))].join(',')}`);
    cold.runs = runs.cold.map((c) => c.bootMs + c.totalMs);
    cold.value = median(cold.runs);
    cold.notes.push(
      `Node boot ${ms(runs.cold.map((c) => c.bootMs))} ms + import ${ms(runs.cold.map((c) => c.importMs))} ms + first request ${ms(runs.cold.map((c) => c.firstRequestMs))} ms (with GetSecretValue and GetItem on loopback); statuses ${[...new Set(runs.cold.map((c) => c.status))].join(',')}; ${secrets.requests} GetSecretValue answered for ${runs.cold.length} starts`,
      `CPU: ${share.description}; not included: Lambda's sandbox and runtime start, TLS, DNS, network time to the services`,
    );
  } catch (e) {
    for (const f of [init, cold]) if (f.value === undefined) f.error = (e as Error).message;
  } finally {
    await secrets.close();
    await share.close();
  }
  return [init, cold];
}
