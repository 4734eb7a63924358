// Shared by the pull-through cache tests: a proxy project made with the admin CLI, an image seeded
// into a real upstream with skopeo, and a manifest's digest read through a registry.
import { expect, type TestContext } from 'vitest';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { runNodeCli } from '../support/cli.ts';
import { createSkopeo, type Skopeo } from '../support/clients.ts';
import { startUpstream, type Upstream } from '../support/upstream-registry.ts';
import { makeOciImage, type TestImage } from '../support/images.ts';
import { projectDir } from '../support/npm-start.ts';
import { sha256, tempDir } from './helpers.ts';

const ADMIN = join(projectDir, 'functions', 'apps', 'admin-cli', 'main.ts');

export async function admin(dataDir: string, args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return runNodeCli(ADMIN, [...args, '--json'], { env: { ...process.env, REGISTRY_DATA_DIR: dataDir }, ...(stdin !== undefined ? { stdin } : {}) });
}

export async function createProxy(dataDir: string, name: string, upstream: string, extra: string[] = [], stdin?: string): Promise<Record<string, unknown>> {
  const r = await admin(dataDir, ['project', 'create', name, '--proxy', upstream, ...extra], stdin);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Record<string, unknown>;
}

/** Lets skopeo log in to `host` from its auth file (never argv). */
export async function skopeoLogin(skopeo: Skopeo, host: string, user: string, password: string): Promise<void> {
  await writeFile(skopeo.env.REGISTRY_AUTH_FILE!, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
}

export interface Seeded {
  image: TestImage;
  /** The manifest's digest as the upstream stores it (skopeo may rewrite the manifest on push). */
  digest: string;
  /** Config and layer digests of that manifest. */
  blobs: string[];
}

/** A fresh image with layers of these sizes, pushed to `ref` (host/repo:tag) with skopeo. */
export async function seed(t: TestContext, skopeo: Skopeo, ref: string, layerSizes: number[]): Promise<Seeded> {
  const layout = join(await tempDir(t, 'proxy-layout'), 'oci');
  const image = await makeOciImage(layout, { layerSizes, tag: 'v1' });
  await skopeo.run(['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${ref}`]);
  const raw = (await skopeo.run(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout;
  const m = JSON.parse(raw.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  return { image, digest: sha256(raw), blobs: [m.config.digest, ...m.layers.map((l) => l.digest)] };
}

/** The digest of the manifest `ref` names, as skopeo reads it (the raw bytes' sha256). */
export async function manifestDigest(skopeo: Skopeo, ref: string): Promise<string> {
  const r = await skopeo.run(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return sha256(r.stdout);
}

/**
 * What a client's pull does over HTTP: the manifest by tag, then every blob (following the 307),
 * hashed. With `retries`, a 429 with Retry-After is retried after it (as skopeo, containerd and
 * dockerd do on a blob GET), and counted in `retried`.
 */
export async function httpPull(base: string, repo: string, tag: string, opts: { retries?: number; retried?: { count: number } } = {}): Promise<string[]> {
  const get = async (url: string, init: RequestInit = {}): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, init);
      const after = Number(res.headers.get('retry-after'));
      if (res.status !== 429 || !after || attempt >= (opts.retries ?? 0)) return res;
      await res.arrayBuffer();
      if (opts.retried) opts.retried.count += 1;
      await new Promise((r) => setTimeout(r, after * 1000));
    }
  };
  const res = await get(`${base}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 200) throw new Error(`manifest: ${res.status} ${await res.text()}`);
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return Promise.all(
    [m.config, ...m.layers].map(async ({ digest }) => {
      const blob = await get(`${base}/v2/${repo}/blobs/${digest}`);
      if (blob.status !== 200) throw new Error(`blob ${digest}: ${blob.status} ${await blob.text()}`);
      return sha256(Buffer.from(await blob.arrayBuffer()));
    }),
  );
}

export const count = (requests: string[], prefix: string): number => requests.filter((r) => r.startsWith(prefix)).length;

/** An isolated skopeo and a fresh upstream (distribution), both ended with the test. */
export async function skopeoAndUpstream(t: TestContext, opts: { basicAuth?: boolean } = {}): Promise<{ skopeo: Skopeo; upstream: Upstream }> {
  const skopeo = await createSkopeo();
  t.onTestFinished(() => skopeo.close());
  const upstream = await startUpstream(opts);
  t.onTestFinished(() => upstream.stop());
  return { skopeo, upstream };
}
