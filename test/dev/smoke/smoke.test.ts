// `npm run smoke` (issue 14): against npm start and start:aws (ingest on and off, the edge fast path
// off), every path passes; with the edge PUT refused as S3 refuses unsigned x-amz headers, it fails
// naming the cause; with auth on, it logs in with --user.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { startRegistry, type RunningRegistry } from '../../support/registry.ts';
import { addUser, createProject, setMember } from '../../../functions/core/auth/admin.ts';

const SMOKE = join(import.meta.dirname, '..', '..', '..', 'dev', 'smoke', 'main.ts');
const PATHS = ['ping', 'edge PUT', 'streamed PATCH', 'chunked PATCH', 'mount', 'manifest by tag and digest', 'referrers', 'ranged GET', 'tag list', 'delete'];

interface Outcome { code: number | null; out: string; json?: { ok: boolean; paths: { path: string; outcome: string; status?: number; code?: string; cause?: string }[] } }

function smoke(url: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SMOKE, url, ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      let json;
      try {
        json = JSON.parse(out) as Outcome['json'];
      } catch {
        json = undefined;
      }
      resolve({ code, out, ...(json ? { json } : {}) });
    });
  });
}

const outcomes = (o: Outcome) => Object.fromEntries((o.json?.paths ?? []).map((p) => [p.path, p.outcome]));
const running: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const r of running) await r.close();
});

async function aws(opts: Partial<Parameters<typeof startAwsLocal>[0]>): Promise<AwsLocal> {
  const local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, ...opts });
  running.push(local);
  return local;
}

describe('npm run smoke', { timeout: 120_000 }, () => {
  it('npm start: every path ok, one line each, exit 0', async () => {
    const reg: RunningRegistry = await startRegistry();
    running.push({ close: () => reg.stop() });
    const text = await smoke(reg.url);
    expect(text.code, text.out).toBe(0);
    for (const p of PATHS) expect(text.out).toMatch(new RegExp(`^ok +${p.replace(/[()]/g, '\\$&')} +\\d+ ms`, 'm'));
    expect(text.out).toContain('smoke: every path works');
  });

  it('start:aws, ingest on: every path ok (--json)', async () => {
    const o = await smoke((await aws({})).url, ['--json']);
    expect(o.code, o.out).toBe(0);
    expect(outcomes(o)).toEqual(Object.fromEntries(PATHS.map((p) => [p, 'ok'])));
  });

  it('start:aws, ingest off: the streamed PATCH is n/a (413 from the edge), everything else ok, exit 0', async () => {
    const o = await smoke((await aws({ ingest: false })).url, ['--json']);
    expect(o.code, o.out).toBe(0);
    expect(outcomes(o)).toEqual(Object.fromEntries(PATHS.map((p) => [p, p === 'streamed PATCH' ? 'n/a' : 'ok'])));
  });

  it('start:aws, edgeUploads off: every path ok (monolithic PUTs through ingest or the API)', async () => {
    const local = await aws({ edgeUploads: false });
    const o = await smoke(local.url, ['--json']);
    expect(o.code, o.out).toBe(0);
    const stats = (await (await fetch(`${local.url}/_local/stats`)).json()) as { requests: { s3: number } };
    expect(stats.requests.s3).toBe(0);
  });

  it('start:aws with the edge PUT refused by S3 (OAC not signing the checksum header): exit 1, the cause named', async () => {
    const o = await smoke((await aws({ faultEdgePutUnsigned: true })).url);
    expect(o.code).toBe(1);
    expect(o.out).toMatch(/^failed edge PUT +\d+ ms 403 SignatureDoesNotMatch/m);
    expect(o.out).toContain('likely cause: edge PUT refused by S3 with 403 SignatureDoesNotMatch: Origin Access Control did not sign the checksum header: set edgeUploads off');
  });

  it('start:aws with auth: without --user it says credentials are needed; with them, every path ok', async () => {
    const local = await aws({ auth: true });
    await addUser(local.deps.identity, 'ops', 'a long enough password', false);
    await createProject(local.deps.identity, 'smoke', false);
    await setMember(local.deps.identity, 'smoke', 'ops', 'maintainer');
    const anonymous = await smoke(local.url);
    expect(anonymous.code).toBe(1);
    expect(anonymous.out).toContain('this registry needs credentials: give --user');
    const o = await smoke(local.url, ['--user', 'ops', '--json'], { REGISTRY_PASSWORD: 'a long enough password' });
    expect(o.code, o.out).toBe(0);
  });
});
