// `npm run admin -- <command>`: users, projects, members and robots of the registry in
// REGISTRY_DATA_DIR (as `npm start`; safe while it runs), or with `--aws --env <name>` of a
// deployment (its DynamoDB table; stores.ts). Passwords are read from stdin, never argv;
// a robot's secret is printed once. --json prints one JSON object.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMANDS, isUserError, usage, UsageError } from './commands.ts';
import { openStore, type OpenStore } from './stores.ts';
import { auditedIdentityStore } from '../../core/auth/audited-admin.ts';
import { cliActor, cliAuditRecorder } from './audit-actor.ts';
import { PROXY_OPTIONS } from './proxy-options.ts';

const EXIT_FAILED = 1;
const EXIT_USAGE = 64;
const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what}: `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new UsageError(`no ${what} on stdin (e.g. \`printf '%s' "$PASSWORD" | npm run admin -- ...\`)`);
  return text;
}

function print(value: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value)}\n`);
    return;
  }
  const lines: string[] = [];
  const walk = (v: unknown, indent: string) => {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (Array.isArray(x)) {
        lines.push(`${indent}${k}:`);
        for (const item of x) lines.push(`${indent}  - ${typeof item === 'object' && item !== null ? Object.entries(item).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(' ') : String(item)}`);
      } else lines.push(`${indent}${k}: ${typeof x === 'string' ? x : JSON.stringify(x)}`);
    }
  };
  walk(value, '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        json: { type: 'boolean' }, admin: { type: 'boolean' }, public: { type: 'boolean' }, system: { type: 'boolean' },
        actions: { type: 'string' }, repositories: { type: 'string' }, expires: { type: 'string' }, help: { type: 'boolean' },
        keep: { type: 'string' }, 'older-than': { type: 'string' }, 'not-pulled': { type: 'string' },
        'no-password': { type: 'boolean' }, github: { type: 'string' }, 'owner-id': { type: 'string' }, 'repository-id': { type: 'string' },
        ref: { type: 'string' }, environment: { type: 'string' }, workflow: { type: 'string' }, life: { type: 'string' },
        aws: { type: 'boolean' }, env: { type: 'string' }, region: { type: 'string' },
        project: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' },
        ...PROXY_OPTIONS,
      },
    });
  } catch (e) {
    process.stderr.write(`admin: ${(e as Error).message}\n${usage()}\n`);
    return EXIT_USAGE;
  }
  const [group, name, ...args] = parsed.positionals;
  const command = group && name ? COMMANDS[group]?.[name] : undefined;
  if (parsed.values.help || !command) {
    process.stderr.write(`${usage()}\n`);
    return parsed.values.help ? 0 : EXIT_USAGE;
  }
  let opened: OpenStore;
  try {
    opened = openStore(projectDir, parsed.values);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`admin: ${e.message}\n`);
    return EXIT_USAGE;
  }
  try {
    // Every change made through the CLI is an audit entry (core/auth/audited-admin.ts).
    const store = auditedIdentityStore(opened.store, cliAuditRecorder(opened.audit), cliActor());
    print(await command.run({ args, options: parsed.values, readSecret: readStdin, store, audit: opened.audit, usage: opened.usage, secrets: opened.secrets, ...(opened.purgeCdn ? { purgeCdn: opened.purgeCdn } : {}) }), parsed.values.json === true);
    return 0;
  } catch (e) {
    if (!isUserError(e)) throw e;
    process.stderr.write(`admin: ${(e as Error).message}${e instanceof UsageError ? `\n  ${command.usage}` : ''}\n`);
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    opened.close();
  }
}

process.exitCode = await main();
