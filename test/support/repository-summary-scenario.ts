// A project's repositories with their summaries (GET /api/v1/projects/{project}/repositories,
// docs/api.md): tag count, size, last push and pull count, over the wire against both backends: run by
// test/apps/server/management-api.test.ts (npm start: SQLite) and
// test/dev/start-aws/management-api.test.ts (start:aws: the API Lambda, DynamoDB Local). Needs the
// users of management-client.ts's seedIdentities. Pull counts reach the audit trail once a minute
// per process; the cases write theirs through an AuditRecorder on the registry's own audit store.
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder, type AuditLog } from '../../functions/core/audit.ts';
import { managementClient, PASSWORD, refused, type Auth, type Target } from './management-client.ts';
import { pushTinyImage, type TinyImage } from './tiny-image.ts';

/** `count` pulls of `repository` through an AuditRecorder on `store`, flushed: one pull.count entry. */
export async function recordPulls(store: AuditLog, repository: string, count: number): Promise<void> {
  const recorder = new AuditRecorder({ store, log: () => undefined });
  for (let i = 0; i < count; i++) await recorder.pulled(repository, 'v1', 'alice', '127.0.0.1');
  await recorder.flushPulls();
  expect(recorder.writeFailures).toBe(0);
}

interface Summary { name: string; tags: number; moreTags: boolean; lastPush: string | null; pulls: number | null; size: number | null; sizeComplete: boolean }

interface Descriptor { digest: string; size: number }

/** The summed sizes of the distinct blobs (config and layers) the manifests of `images` name. */
function distinctBlobBytes(images: TinyImage[]): number {
  const sizes = new Map<string, number>();
  for (const image of images) {
    const m = JSON.parse(image.manifest) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [m.config, ...m.layers]) sizes.set(d.digest, d.size);
  }
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}

export function repositorySummaryScenario(target: () => Target, pulls: (repository: string, count: number) => Promise<void>): void {
  describe('a project\'s repositories with their summaries', () => {
    const client = managementClient(target);
    let root: Auth, alice: Auth, carol: Auth;
    let started = 0;
    const pushed: Record<string, TinyImage[]> = { 'sums/app': [], 'sums/idle': [] };

    beforeAll(async () => {
      await client.init();
      [root, alice, carol] = await Promise.all([client.bearer('root'), client.bearer('alice'), client.bearer('carol')]);
      expect((await client.call('POST', '/projects', root, { name: 'sums' })).status).toBe(201);
      expect((await client.call('PUT', '/projects/sums/members/alice', root, { role: 'guest' })).status).toBe(200);
      started = Date.now();
      const push = await client.bearer('root', PASSWORD, 'repository:sums/app:pull,push repository:sums/idle:pull,push');
      for (const [repo, tag] of [['sums/idle', 'v1'], ['sums/app', 'v1'], ['sums/app', 'v2']] as const) {
        const { image, put } = await pushTinyImage(target().url, repo, tag, push);
        expect(put.status).toBe(201);
        pushed[repo]!.push(image);
      }
      await pulls('sums/app', 3);
    }, 60_000);

    it('each with its tag count, its size (its distinct blobs: both images share their config), its last push (from the audit trail) and its pulls (summed); paged as before', async () => {
      const list = await client.call('GET', '/projects/sums/repositories', alice);
      expect(list.status).toBe(200);
      const [app, idle] = list.body.repositories as Summary[];
      expect(list.body).toEqual({
        repositories: [
          { name: 'sums/app', tags: 2, moreTags: false, lastPush: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), pulls: 3, size: distinctBlobBytes(pushed['sums/app']!), sizeComplete: true },
          { name: 'sums/idle', tags: 1, moreTags: false, lastPush: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), pulls: 0, size: distinctBlobBytes(pushed['sums/idle']!), sizeComplete: true },
        ],
        next: null,
      });
      // The newest push of each: app's second tag came after idle's only push.
      expect(Date.parse(idle!.lastPush!)).toBeGreaterThanOrEqual(started);
      expect(Date.parse(app!.lastPush!)).toBeGreaterThanOrEqual(Date.parse(idle!.lastPush!));
      expect(Date.parse(app!.lastPush!)).toBeLessThanOrEqual(Date.now());
      const first = await client.call('GET', '/projects/sums/repositories?n=1', alice);
      expect(first.body).toEqual({ repositories: [app], next: 'sums/app' });
      expect(first.headers.get('link')).toBe('</api/v1/projects/sums/repositories?n=1&last=sums%2Fapp>; rel="next"');
      expect((await client.call('GET', '/projects/sums/repositories?last=sums%2Fapp', alice)).body).toEqual({ repositories: [idle], next: null });
    });

    it('?fields=name: names only, its next page too; any other fields value is a 400 naming the field', async () => {
      const names = await client.call('GET', '/projects/sums/repositories?fields=name&n=1', alice);
      expect(names.body).toEqual({ repositories: [{ name: 'sums/app' }], next: 'sums/app' });
      expect(names.headers.get('link')).toBe('</api/v1/projects/sums/repositories?n=1&last=sums%2Fapp&fields=name>; rel="next"');
      expect((await client.call('GET', '/projects/sums/repositories?last=sums%2Fapp&fields=name', alice)).body).toEqual({ repositories: [{ name: 'sums/idle' }], next: null });
      for (const bad of ['size', 'name,tags', '', 'NAME']) {
        const r = await client.call('GET', `/projects/sums/repositories?fields=${encodeURIComponent(bad)}`, alice);
        refused(r, 400, 'INVALID_REQUEST');
        expect(r.body.errors[0].detail.field, bad).toBe('fields');
      }
    });

    it('to whoever may not see the project: 404, as for the names alone', async () => {
      for (const path of ['/projects/sums/repositories', '/projects/sums/repositories?fields=name']) {
        refused(await client.call('GET', path, carol), 404, 'NOT_FOUND');
        refused(await client.call('GET', path), 404, 'NOT_FOUND');
      }
    });
  });
}
