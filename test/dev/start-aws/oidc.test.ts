// Keyless CI in the AWS shape (issue 15 item 3): start:aws with token auth, a trust rule in the
// DynamoDB table (found from the ID token by one Query on ID#TRUSTBY#...), a local issuer standing in
// for GitHub Actions', and skopeo pushing with `--dest-creds oidc:<ID token>` through the front door.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsLocal, type AwsLocal } from '../../../dev/start-aws/start.ts';
import { createProject } from '../../../functions/core/auth/admin.ts';
import { addTrustRule } from '../../../functions/core/auth/trust-rules.ts';
import { createSkopeo, toolGate, type Skopeo } from '../../support/clients.ts';
import { makeOciImage, type TestImage } from '../../support/images.ts';
import { startIssuer, type TestIssuer } from '../../support/oidc-issuer.ts';

const gate = toolGate(['skopeo']);
let local: AwsLocal;
let issuer: TestIssuer;
let skopeo: Skopeo;
let work: string;
let img: TestImage;

beforeAll(async () => {
  issuer = await startIssuer({ audience: 'unused' });
  local = await startAwsLocal({ host: '127.0.0.1', port: 0, ingest: false, auth: true, oidcGithubUrl: issuer.url });
  await createProject(local.deps.identity, 'team', false);
  await addTrustRule(local.deps.identity, 'team', { github: 'octo-org/app', ownerId: '1001', repositoryId: '2002', ref: 'main', actions: ['pull', 'push'] });
  if (gate.missing) return;
  skopeo = await createSkopeo();
  work = await mkdtemp(join(tmpdir(), 'aws-oidc-'));
  img = await makeOciImage(join(work, 'layout'), { layerSizes: [100 * 1024] });
}, 180_000);

afterAll(async () => {
  await skopeo?.close();
  await local?.close();
  await issuer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('start:aws: keyless CI', () => {
  it('skopeo pushes and pulls with an ID token; another owner\'s token and a pull request\'s are refused', { timeout: 120_000 }, async (t) => {
    gate.check(t);
    // The service, and so the audience, is the host of REGISTRY_URL: 127.0.0.1:<port>.
    const host = new URL(local.url).host;
    const idToken = (claims: Record<string, unknown> = {}) => issuer.idToken({ aud: host, ...claims });
    const dest = `docker://${host}/team/app:v1`;
    const copy = (creds: string) => skopeo.run(['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${join(work, 'layout')}:v1`, dest], { timeoutMs: 60_000 });
    await copy(`oidc:${await idToken()}`);
    const inspect = await skopeo.run(['inspect', '--tls-verify=false', '--creds', `oidc:${await idToken()}`, dest], { timeoutMs: 60_000 });
    expect((JSON.parse(inspect.text) as { Digest: string }).Digest).toBe(img.manifestDigest);
    await expect(copy(`oidc:${await idToken({ repository_owner_id: '31337', repository_id: '31338' })}`)).rejects.toThrow(/401|unauthorized|denied|authentication/i);
    await expect(copy(`oidc:${await idToken({ event_name: 'pull_request' })}`)).rejects.toThrow(/401|unauthorized|denied|authentication/i);
  });
});
