// Storage quotas (issue 16 item 6, docs/quotas.md) through the registry core on both backends
// (SQLite + files, DynamoDB Local + s3rver): a monolithic upload over the quota refused before a byte
// is stored, a chunked one at its finishing PUT (its upload ended), an edge upload (bytes S3 took
// without the registry) at the manifest PUT, a mount; nothing of a refused push linked. A blob shared
// by two repositories of a project counts once, and in each project that links it; a delete and GC
// passes give the bytes back.
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../../functions/core/access.ts';
import { edgeUploadKey } from '../../functions/adapters/s3/edge-upload-keys.ts';
import { collectGarbage } from '../../functions/core/gc/run.ts';
import type { RegistryRequest } from '../../functions/core/http.ts';
import { createRegistry, type Registry } from '../../functions/core/registry.ts';
import { TokenSigner } from '../../functions/core/tokens.ts';
import { call, openBackend, pushImage, startAwsServices, type AwsServices, type BackendName, type GcBackend } from '../support/gc-backends.ts';
import { OCI_MANIFEST, EMPTY_DESCRIPTOR } from '../support/oci.ts';

const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The registry core over the backend's stores, with `limits` as the projects' quotas. */
function withQuotas(b: GcBackend, limits: Record<string, number>): Registry {
  return createRegistry({
    metadata: b.metadata, blobs: b.blobs, authorizer: allowAll, uploadTokens: new TokenSigner(randomBytes(32)),
    quotas: async (repo) => limits[repo.split('/')[0]!],
  });
}

/** A request whose body has no Content-Length (Transfer-Encoding: chunked, as classic Docker's PATCH). */
async function streamed(registry: Registry, method: string, url: string, body: Uint8Array): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const u = new URL(url, 'http://registry.invalid');
  async function* chunks() {
    for (let i = 0; i < body.length; i += 1000) yield body.subarray(i, i + 1000);
  }
  const req: RegistryRequest = { method, path: u.pathname, query: u.searchParams, headers: {}, body: chunks() };
  const res = await registry(req);
  return { status: res.status, headers: res.headers, text: typeof res.body === 'string' ? res.body : '' };
}

function denied(r: { status: number; text: string }, project: string, used: number | undefined, quota: number): void {
  expect(r.status, r.text).toBe(403);
  const error = (JSON.parse(r.text) as { errors: { code: string; message: string; detail: Record<string, unknown> }[] }).errors[0]!;
  expect(error.code).toBe('DENIED');
  expect(error.message).toContain(`storage quota of project ${project} exceeded`);
  expect(error.detail).toMatchObject({ project, quota, ...(used === undefined ? {} : { used }) });
}

function quotasOn(name: BackendName): void {
  let aws: AwsServices | undefined;
  let b: GcBackend;
  beforeAll(async () => {
    if (name === 'aws') aws = await startAwsServices();
    b = await openBackend(name, aws);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await aws?.stop();
  });
  const project = () => `q${randomBytes(4).toString('hex')}`;
  const usage = async (p: string) => (await b.metadata.projectUsage(p)).bytes;

  it('a monolithic upload over the quota is refused before a byte is stored, and nothing is linked', async () => {
    const p = project();
    const registry = withQuotas(b, { [p]: 5000 });
    const first = randomBytes(3000);
    expect((await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/?digest=${sha256(first)}`, first)).status).toBe(201);
    expect(await usage(p)).toBe(3000);
    const stored = (await b.stored()).length;
    const over = randomBytes(2500);
    denied(await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/?digest=${sha256(over)}`, over), p, 3000, 5000);
    expect((await b.stored()).length).toBe(stored);
    expect((await call(registry, 'HEAD', `/v2/${p}/app/blobs/${sha256(over)}`)).status).toBe(404);
    // POST, then a PUT carrying the whole blob with its Content-Length (containerd): refused at the PUT.
    const start = await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/`);
    expect(start.status).toBe(202);
    denied(await call(registry, 'PUT', `${start.headers.location}&digest=${sha256(over)}`, over), p, 3000, 5000);
    expect((await b.stored()).length).toBe(stored);
    // What fits still goes in; exactly at the quota too.
    const fits = randomBytes(2000);
    expect((await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/?digest=${sha256(fits)}`, fits)).status).toBe(201);
    expect(await b.metadata.projectUsage(p)).toEqual({ bytes: 5000, blobs: 2 });
  });

  it('a chunked upload (no Content-Length) over the quota is refused at its finishing PUT, which ends it', async () => {
    const p = project();
    const registry = withQuotas(b, { [p]: 4000 });
    await pushImage(registry, `${p}/app`, 'v1', [randomBytes(1000)]);
    const used = await usage(p);
    const layer = randomBytes(3500);
    const start = await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/`);
    const patched = await streamed(registry, 'PATCH', start.headers.location!, layer);
    expect(patched.status).toBe(202);
    denied(await call(registry, 'PUT', `${patched.headers.location}&digest=${sha256(layer)}`), p, used, 4000);
    expect((await call(registry, 'GET', patched.headers.location!)).status).toBe(404);
    expect((await call(registry, 'HEAD', `/v2/${p}/app/blobs/${sha256(layer)}`)).status).toBe(404);
    expect(await usage(p)).toBe(used);
  });

  it('a push that takes the room between the check and the link (a race): the link write refuses, 403, the upload ended, nothing linked', async () => {
    const p = project();
    // The quota the finishing PUT's check sees is roomy; the one its link write carries is full, as
    // if a racing push had filled the project in between (the store's own check decides).
    let asked = 0;
    const registry = createRegistry({
      metadata: b.metadata, blobs: b.blobs, authorizer: allowAll, uploadTokens: new TokenSigner(randomBytes(32)),
      quotas: async () => (++asked === 1 ? 1_000_000 : 100),
    });
    const layer = randomBytes(2000);
    const start = await call(registry, 'POST', `/v2/${p}/app/blobs/uploads/`);
    const patched = await streamed(registry, 'PATCH', start.headers.location!, layer);
    expect(patched.status).toBe(202);
    denied(await call(registry, 'PUT', `${patched.headers.location}&digest=${sha256(layer)}`), p, 0, 100);
    expect(asked).toBe(2);
    expect((await call(registry, 'GET', patched.headers.location!)).status).toBe(404);
    expect((await call(registry, 'HEAD', `/v2/${p}/app/blobs/${sha256(layer)}`)).status).toBe(404);
    expect(await usage(p)).toBe(0);
  });

  it('a blob two repositories of a project link counts once; another project that links it counts it too; a mount over the quota is refused', async () => {
    const p = project(), other = project();
    const registry = withQuotas(b, { [other]: 1000 });
    const base = randomBytes(1500);
    await pushImage(registry, `${p}/one`, 'v1', [base]);
    const once = await usage(p);
    await pushImage(registry, `${p}/two`, 'v1', [base]);
    await pushImage(registry, `${p}/one/deeper`, 'v1', [base]);
    expect(await usage(p)).toBe(once);
    const mounted = await call(registry, 'POST', `/v2/${p}/three/blobs/uploads/?mount=${sha256(base)}&from=${p}/one`);
    expect(mounted.status).toBe(201);
    expect(await usage(p)).toBe(once);
    // The other project: the same bytes count there too, and do not fit its 1000 bytes.
    denied(await call(registry, 'POST', `/v2/${other}/app/blobs/uploads/?mount=${sha256(base)}&from=${p}/one`), other, 0, 1000);
    expect((await call(registry, 'HEAD', `/v2/${other}/app/blobs/${sha256(base)}`)).status).toBe(404);
    const open = withQuotas(b, {});
    expect((await call(open, 'POST', `/v2/${other}/app/blobs/uploads/?mount=${sha256(base)}&from=${p}/one`)).status).toBe(201);
    expect(await usage(other)).toBe(1500);
  });

  it('a deleted image gives its bytes back after GC passes; a blob another repository links stays counted', async () => {
    const p = project();
    const registry = withQuotas(b, {});
    const shared = randomBytes(1200), own = randomBytes(800);
    const d1 = await pushImage(registry, `${p}/one`, 'v1', [shared, own]);
    const d2 = await pushImage(registry, `${p}/two`, 'v1', [shared]);
    const full = await usage(p);
    const gc = async () => {
      for (let i = 0; i < 3; i++) await collectGarbage(b.gc, { graceMs: 0, untaggedMs: 0, dryRun: false });
    };
    expect((await call(registry, 'DELETE', `/v2/${p}/one/manifests/${d1}`)).status).toBe(202);
    await gc();
    // `own` and the first image's config are gone; `shared` is still linked by p/two.
    expect((await call(registry, 'HEAD', `/v2/${p}/one/blobs/${sha256(own)}`)).status).toBe(404);
    expect(await usage(p)).toBeLessThan(full - 800 + 1);
    expect((await b.metadata.projectUsage(p, sha256(shared))).counted).toBe(true);
    expect((await call(registry, 'DELETE', `/v2/${p}/two/manifests/${d2}`)).status).toBe(202);
    await gc();
    expect(await b.metadata.projectUsage(p)).toEqual({ bytes: 0, blobs: 0 });
  });

  if (name === 'aws') {
    it('an edge upload (the bytes S3 took without the registry) over the quota is refused at the manifest PUT, and not linked', async () => {
      const p = project();
      const registry = withQuotas(b, { [p]: 1000 });
      const layer = randomBytes(1500);
      await b.s3!.client.send(new PutObjectCommand({ Bucket: b.s3!.bucket, Key: edgeUploadKey(`${p}/app`, sha256(layer)), Body: layer }));
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_DESCRIPTOR, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }] });
      denied(await call(registry, 'PUT', `/v2/${p}/app/manifests/v1`, Buffer.from(manifest), { 'content-type': OCI_MANIFEST }), p, undefined, 1000);
      expect((await call(registry, 'HEAD', `/v2/${p}/app/blobs/${sha256(layer)}`)).status).toBe(404);
      expect((await call(registry, 'GET', `/v2/${p}/app/manifests/v1`)).status).toBe(404);
    });
  }
}

describe('storage quotas: SQLite + files', () => quotasOn('local'));
describe('storage quotas: DynamoDB Local + s3rver', { timeout: 60_000 }, () => quotasOn('aws'));
