// The registry side of the web interface's browser tests (test/web/ui.test.ts): the users and projects
// they start from, the images they browse (a multi-platform index with an SBOM referrer), tokens, what
// a guest's own DELETE gets, and skopeo pulling as a robot made on the page.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { addUser, createProject, setMember } from '../../functions/core/auth/admin.ts';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';
import { createSkopeo, findTool, isCI } from './clients.ts';
import { EMPTY_DESCRIPTOR, OCI_INDEX, OCI_MANIFEST } from './oci.ts';
import { pushTinyImage } from './tiny-image.ts';

export const UI_PASSWORD = 'correct horse battery staple';

/** A registry under test: its URL, its host (for image references) and its token service. */
export interface UiTarget {
  url: string;
  host: string;
  service: string;
}

/** The digests of what pushImages pushed. */
export interface UiImages {
  amd64: string;
  arm64: string;
  index: string;
  sbom: string;
}

export const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

export async function token(target: UiTarget, user: string, scope: string, password = UI_PASSWORD): Promise<string> {
  const r = await fetch(`${target.url}/token?service=${encodeURIComponent(target.service)}&scope=${encodeURIComponent(scope)}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** Pushes team/app: two images (tags `amd64` and `old`), an index over both (tag `multi`), an SBOM referring to the index. */
export async function pushImages(target: UiTarget): Promise<UiImages> {
  const push = { authorization: `Bearer ${await token(target, 'alice', 'repository:team/app:pull,push')}` };
  const amd = await pushTinyImage(target.url, 'team/app', 'amd64', push);
  const arm = await pushTinyImage(target.url, 'team/app', 'old', push);
  const entry = (digest: string, size: number, architecture: string) => ({ mediaType: OCI_MANIFEST, digest, size, platform: { os: 'linux', architecture } });
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry(amd.image.digest, amd.image.manifest.length, 'amd64'), entry(arm.image.digest, arm.image.manifest.length, 'arm64')] });
  expect((await fetch(`${target.url}/v2/team/app/manifests/multi`, { method: 'PUT', headers: { ...push, 'content-type': OCI_INDEX }, body: index })).status).toBe(201);
  const sbom = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json', config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR], subject: { mediaType: OCI_INDEX, digest: sha256(index), size: index.length } });
  expect((await fetch(`${target.url}/v2/team/app/manifests/${sha256(sbom)}`, { method: 'PUT', headers: { ...push, 'content-type': OCI_MANIFEST }, body: sbom })).status).toBe(201);
  return { amd64: amd.image.digest, arm64: arm.image.digest, index: sha256(index), sbom: sha256(sbom) };
}

/** root (system administrator); team (private): alice admin, maya maintainer, gus guest; pub (public). */
export async function seed(store: IdentityStore): Promise<void> {
  await addUser(store, 'root', UI_PASSWORD, true);
  for (const u of ['alice', 'maya', 'gus']) await addUser(store, u, UI_PASSWORD, false);
  await createProject(store, 'team', false);
  await createProject(store, 'pub', true);
  await setMember(store, 'team', 'alice', 'admin');
  await setMember(store, 'team', 'maya', 'maintainer');
  await setMember(store, 'team', 'gus', 'guest');
}

/** What the page would have sent for a guest: the token endpoint grants no delete, and the DELETE is refused. */
export async function expectGuestRefused(target: UiTarget): Promise<void> {
  const bearer = `Bearer ${await token(target, 'gus', 'repository:team/app:pull,delete')}`;
  const r = await fetch(`${target.url}/v2/team/app/manifests/multi`, { method: 'DELETE', headers: { authorization: bearer } });
  expect(r.status).toBe(401);
  expect(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('UNAUTHORIZED');
  expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
}

/** skopeo reads team/app:multi from the registry under test as robot `name`; the secret goes in its auth file, never on its command line. */
export async function skopeoAsRobot(target: UiTarget, name: string, use: (inspect: (secret: string) => Promise<string>) => Promise<void>): Promise<void> {
  const skopeo = await createSkopeo();
  try {
    await use(async (secret) => {
      await writeFile(skopeo.env.REGISTRY_AUTH_FILE!, JSON.stringify({ auths: { [target.host]: { auth: Buffer.from(`robot$team+${name}:${secret}`).toString('base64') } } }));
      return (await skopeo.run(['inspect', '--raw', '--tls-verify=false', `docker://${target.host}/team/app:multi`])).text;
    });
  } finally {
    await skopeo.close();
  }
}

export const skopeoMissing = () => (!findTool('skopeo') && !isCI ? 'skopeo is not installed (apt-get install skopeo)' : undefined);
