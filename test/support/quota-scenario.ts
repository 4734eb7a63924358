// Storage quotas over the wire (docs/quotas.md), the same cases against both backends: run by
// test/apps/server/management-api.test.ts (npm start: SQLite + files) and
// test/dev/start-aws/management-api.test.ts (start:aws: the CloudFront and API Gateway emulation, the
// API Lambda, DynamoDB Local, s3rver). Needs the users of management-client.ts's seedIdentities.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { managementClient, PASSWORD, refused, type Auth, type Target } from './management-client.ts';
import { EMPTY_DESCRIPTOR, OCI_MANIFEST } from './oci.ts';
import { pushTinyImage, tinyImage } from './tiny-image.ts';

const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export function quotaScenario(target: () => Target): void {
  describe('storage quotas', () => {
    const client = managementClient(target);
    const api = client.call;
    let root: Auth, alice: Auth, bob: Auth, push: Auth;

    beforeAll(async () => {
      await client.init();
      [root, alice, bob] = await Promise.all([client.bearer('root'), client.bearer('alice'), client.bearer('bob')]);
      expect((await api('POST', '/projects', root, { name: 'quota' })).status).toBe(201);
      expect((await api('PUT', '/projects/quota/members/alice', root, { role: 'admin' })).status).toBe(200);
      expect((await api('PUT', '/projects/quota/members/bob', root, { role: 'guest' })).status).toBe(200);
      push = await client.bearer('root', PASSWORD, 'repository:quota/a:pull,push repository:quota/b:pull,push');
    }, 60_000);

    it('only a system administrator sets a quota; the project\'s admins read it with the usage, nobody else', async () => {
      refused(await api('PUT', '/projects/quota/quota', {}, { quotaBytes: 10_000 }), 401, 'UNAUTHORIZED');
      refused(await api('PUT', '/projects/quota/quota', alice, { quotaBytes: 10_000 }), 403, 'DENIED');
      refused(await api('PUT', '/projects/quota/quota', bob, { quotaBytes: 10_000 }), 403, 'DENIED');
      refused(await api('PUT', '/projects/nosuch/quota', root, { quotaBytes: 10_000 }), 404, 'NOT_FOUND');
      refused(await api('PUT', '/projects/quota/quota', root, { quotaBytes: '10GiB' }), 400, 'INVALID_REQUEST');
      refused(await api('PUT', '/projects/quota/quota', root, { quotaBytes: 0 }), 400, 'INVALID_REQUEST');
      refused(await api('PUT', '/projects/quota/quota', root, { quotaBytes: 1, extra: true }), 400, 'INVALID_REQUEST');
      const set = await api('PUT', '/projects/quota/quota', root, { quotaBytes: 10_000 });
      expect([set.status, set.body]).toEqual([200, { project: 'quota', quotaBytes: 10_000, usedBytes: 0, blobs: 0 }]);
      expect((await api('GET', '/projects/quota/quota', alice)).body).toMatchObject({ quotaBytes: 10_000, usedBytes: 0 });
      refused(await api('GET', '/projects/quota/quota', bob), 403, 'DENIED');
      expect((await api('GET', '/projects/quota', alice)).body).toMatchObject({ name: 'quota', role: 'admin', quotaBytes: 10_000, usedBytes: 0 });
      const asGuest = (await api('GET', '/projects/quota', bob)).body;
      expect(asGuest).toMatchObject({ name: 'quota', role: 'guest' });
      expect(asGuest).not.toHaveProperty('quotaBytes');
      expect(asGuest).not.toHaveProperty('usedBytes');
    });

    it('a push beyond the quota is refused with 403 DENIED and links nothing; a blob two repositories share counts once', async () => {
      expect((await api('PUT', '/projects/quota/quota', root, { quotaBytes: 10_000 })).status).toBe(200);
      const image = tinyImage(randomBytes(4000));
      expect((await pushTinyImage(target().url, 'quota/a', 'v1', push, image)).put.status).toBe(201);
      expect((await pushTinyImage(target().url, 'quota/b', 'v1', push, image)).put.status).toBe(201);
      expect((await api('GET', '/projects/quota/quota', alice)).body).toMatchObject({ usedBytes: 4002, blobs: 2 });
      // Monolithic POST with Content-Length: refused before the bytes are taken.
      const big = randomBytes(7000);
      const post = await fetch(`${target().url}/v2/quota/a/blobs/uploads/?digest=${sha256(big)}`, { method: 'POST', body: big, headers: { ...push, 'content-type': 'application/octet-stream' } });
      expect(post.status).toBe(403);
      const error = ((await post.json()) as { errors: { code: string; message: string; detail: Record<string, unknown> }[] }).errors[0]!;
      expect(error).toMatchObject({ code: 'DENIED', detail: { project: 'quota', quota: 10_000, used: 4002, size: 7000 } });
      expect(error.message).toContain('storage quota of project quota exceeded');
      // POST, then the whole blob in a PUT (containerd): refused at that PUT, or, where the edge takes
      // it straight into storage (start:aws), at the manifest PUT that needs it.
      const start = await fetch(`${target().url}/v2/quota/a/blobs/uploads/`, { method: 'POST', headers: push });
      expect(start.status).toBe(202);
      const location = new URL(start.headers.get('location')!, target().url);
      location.searchParams.set('digest', sha256(big));
      const put = await fetch(location, { method: 'PUT', body: big, headers: { ...push, 'content-type': 'application/octet-stream' } });
      if (put.status === 201) {
        const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: EMPTY_DESCRIPTOR, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(big), size: big.length }] });
        const refusedPut = await fetch(`${target().url}/v2/quota/a/manifests/v2`, { method: 'PUT', body: manifest, headers: { ...push, 'content-type': OCI_MANIFEST } });
        expect(refusedPut.status).toBe(403);
        expect(((await refusedPut.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DENIED');
      } else {
        expect(put.status).toBe(403);
      }
      expect((await fetch(`${target().url}/v2/quota/a/blobs/${sha256(big)}`, { method: 'HEAD', headers: push })).status).toBe(404);
      expect((await api('GET', '/projects/quota/quota', alice)).body).toMatchObject({ usedBytes: 4002, blobs: 2 });
      // Removed (pushes see it within the few seconds a process keeps a project's settings).
      expect(await api('PUT', '/projects/quota/quota', root, { quotaBytes: null })).toMatchObject({ status: 200, body: { quotaBytes: null } });
      expect((await api('GET', '/projects/quota/quota', alice)).body).toMatchObject({ quotaBytes: null, usedBytes: 4002, blobs: 2 });
    });
  });
}
