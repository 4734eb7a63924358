// docker against the AWS shape with token auth (issue 15: "the same under start:aws"): `docker
// login` with a wrong password fails and with the right one stores an identity token, not the
// password; a user and a project robot push (docker streams each layer in a PATCH: through ingest,
// which checks the token too) and pull; anyone pulls a public project's image, nobody a private one
// without signing in. One private dockerd for the file, started by the first test.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { createRobot } from '../../../functions/core/auth/admin.ts';
import { SEED_PASSWORD, seedTeamAndPub } from '../../support/auth-seed.ts';
import { startDockerd, startOrSkip, toolGate, type Dockerd } from '../../support/clients.ts';
import { makeOciImage, toDockerArchive } from '../../support/images.ts';

const gate = toolGate(['dockerd', 'docker']);
const PASSWORD = SEED_PASSWORD;
const KiB = 1024;

let local: AwsLocal;
let host: string;
let dockerd: Dockerd | undefined;
let work: string;
let robotSecret: string;

beforeAll(async () => {
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: true, auth: true });
  host = new URL(local.url).host;
  await seedTeamAndPub(local.deps.identity);
  robotSecret = (await createRobot(local.deps.identity, 'team', 'ci', { actions: ['pull', 'push'] })).secret;
}, 90_000);

/** The file's dockerd with the test image loaded, started by the first test that needs it (skipped where it cannot run, an error under CI). */
async function daemon(t: TestContext): Promise<Dockerd | undefined> {
  if (dockerd) return dockerd;
  const started = await startOrSkip(t, () => startDockerd());
  if (!started) return undefined;
  dockerd = started;
  work = await mkdtemp(join(tmpdir(), 'aws-docker-auth-'));
  const img = await makeOciImage(join(work, 'layout'), { layerSizes: [6 * 1024 * KiB, 64 * KiB] });
  await dockerd.docker(['load', '-i', await toDockerArchive(img, join(work, 'img.docker.tar'), 'e2e/load:v1')]);
  return dockerd;
}

afterAll(async () => {
  await dockerd?.stop();
  await local?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const login = (user: string, password: string) => dockerd!.login(user, password, host);

async function pushAndPull(target: string): Promise<void> {
  await dockerd!.docker(['tag', 'e2e/load:v1', target]);
  await dockerd!.docker(['push', target], { timeoutMs: 90_000 });
  await dockerd!.docker(['rmi', target]);
  await dockerd!.docker(['pull', target], { timeoutMs: 90_000 });
}

describe('docker with token auth on start:aws', () => {
  it('docker login: a wrong password fails; the right one stores an identity token, not the password; push and pull', { timeout: 240_000 }, async (t) => {
    gate.check(t);
    if (!(await daemon(t))) return;
    const bad = await login('dev', 'not the password at all');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/unauthorized|authentication/i);
    const good = await login('dev', PASSWORD);
    expect(good.code, good.err).toBe(0);
    const config = JSON.parse(await readFile(join(dockerd!.dir, 'client', 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
    expect(config.auths[host]?.identitytoken, JSON.stringify(config)).toBeTruthy();
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    for (const [h, e] of Object.entries(config.auths)) expect(Buffer.from(e.auth ?? '', 'base64').toString('utf8'), h).not.toContain(PASSWORD);
    await pushAndPull(`${host}/team/docker:v1`);
    await pushAndPull(`${host}/pub/docker:v1`);
  });

  it('a project robot logs in with its secret, pushes and pulls; signed out, a private image is refused and a public one pulls', { timeout: 240_000 }, async (t) => {
    gate.check(t);
    const d = await daemon(t);
    if (!d) return;
    const robot = await login('robot$team+ci', robotSecret);
    expect(robot.code, robot.err).toBe(0);
    await pushAndPull(`${host}/team/robot:v1`);
    await d.docker(['logout', host]);
    await d.docker(['rmi', `${host}/team/robot:v1`, `${host}/pub/docker:v1`]);
    await expect(d.docker(['pull', `${host}/team/robot:v1`], { timeoutMs: 60_000 })).rejects.toThrow(/unauthorized|authentication|denied|not found/i);
    await d.docker(['pull', `${host}/pub/docker:v1`], { timeoutMs: 90_000 });
  });
});
