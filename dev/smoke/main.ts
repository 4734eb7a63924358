// `npm run smoke -- <registry URL> [--user NAME] [--json] [--timeout SECONDS]`: pushes and pulls a
// small generated image through every path a deployment has (docs/deploy.md, "Smoke test after
// deploy"), one line per path; exits 1 when any path failed. The password comes from
// REGISTRY_PASSWORD or stdin, never from the command line.
import { parseArgs } from 'node:util';
import { SmokeClient, type Credentials } from './client.ts';
import { runSmoke, type PathResult } from './paths.ts';

async function password(): Promise<string> {
  if (process.env.REGISTRY_PASSWORD) return process.env.REGISTRY_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function line(r: PathResult): string {
  const answer = r.status === undefined ? '' : ` ${r.status}${r.code ? ` ${r.code}` : ''}`;
  const text = `${r.outcome.padEnd(6)} ${r.path.padEnd(26)} ${String(r.ms).padStart(6)} ms${answer}${r.detail ? `  ${r.detail}` : ''}`;
  return r.cause ? `${text}\n       likely cause: ${r.cause}` : text;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { user: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } });
  const url = positionals[0];
  if (!url || !/^https?:\/\//.test(url)) {
    process.stderr.write('usage: npm run smoke -- <registry URL, e.g. https://registry.example.com> [--user NAME] [--json] [--timeout SECONDS]\n');
    return 64;
  }
  const creds: Credentials | undefined = values.user ? { user: values.user, password: await password() } : undefined;
  const client = new SmokeClient(url, creds, Number(values.timeout ?? 60) * 1000);
  const results = await runSmoke(client);
  const failed = results.filter((r) => r.outcome === 'failed');
  if (values.json) process.stdout.write(`${JSON.stringify({ registry: url, ok: failed.length === 0, paths: results })}\n`);
  else process.stdout.write(`${results.map(line).join('\n')}\n${failed.length === 0 ? 'smoke: every path works' : `smoke: ${failed.length} path(s) failed`}\n`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`smoke: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
});
