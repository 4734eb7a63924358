// The management API (/api/v1/, docs/api.md) over the wire, the same cases against every backend:
// test/apps/server/management-api.test.ts (npm start: SQLite) and
// test/dev/start-aws/management-api.test.ts (start:aws: API Gateway and CloudFront emulation in front
// of the API Lambda, DynamoDB Local). Every refusal is asserted with its status and OCI error code.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_DESCRIPTOR, OCI_INDEX, OCI_MANIFEST } from './oci.ts';
import { managementClient, PASSWORD, refused, type Target } from './management-client.ts';
import { pushTinyImage } from './tiny-image.ts';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

export function managementScenario(target: () => Target, secrets: () => { robotSecret: string }): void {
  const client = managementClient(target);
  const { token, bearer, call } = client;

  let root: Record<string, string> = {};
  let alice: Record<string, string> = {};
  let bob: Record<string, string> = {};
  let carol: Record<string, string> = {};
  let robot: Record<string, string>;
  let image: { digest: string; index: string; referrer: string };

  beforeAll(async () => {
    await client.init();
    [root, alice, bob, carol] = await Promise.all([bearer('root'), bearer('alice'), bearer('bob'), bearer('carol')]);
    robot = { authorization: `Bearer ${await token('robot$team+ci', secrets().robotSecret)}` };
    // An image, an index over it with a platform, and a referrer (an SBOM-like artifact) of the image.
    const push = { authorization: `Bearer ${await token('alice', PASSWORD, 'repository:team/app:pull,push')}` };
    const { image: img, put } = await pushTinyImage(target().url, 'team/app', 'v1', push);
    expect(put.status).toBe(201);
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length, platform: { os: 'linux', architecture: 'arm64' } }] });
    expect((await fetch(`${target().url}/v2/team/app/manifests/multi`, { method: 'PUT', headers: { ...push, 'content-type': OCI_INDEX }, body: index })).status).toBe(201);
    const sbom = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json', config: EMPTY_DESCRIPTOR, layers: [EMPTY_DESCRIPTOR], subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length } });
    expect((await fetch(`${target().url}/v2/team/app/manifests/${sha256(sbom)}`, { method: 'PUT', headers: { ...push, 'content-type': OCI_MANIFEST }, body: sbom })).status).toBe(201);
    image = { digest: img.digest, index: sha256(index), referrer: sha256(sbom) };
  }, 60_000);

  describe('who may call', () => {
    it('anonymous: 401 with the token challenge on what needs a caller; public projects only on lists', async () => {
      const who = await call('GET', '/whoami');
      refused(who, 401, 'UNAUTHORIZED');
      expect(who.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+\/token",service="[^"]+",scope="registry:management:\*"$/);
      refused(await call('POST', '/projects', {}, { name: 'anon' }), 401, 'UNAUTHORIZED');
      refused(await call('GET', '/users'), 401, 'UNAUTHORIZED');
      const projects = await call('GET', '/projects');
      expect(projects.status).toBe(200);
      expect(projects.body.projects.map((p: { name: string }) => p.name)).toEqual(['pub']);
      refused(await call('GET', '/repositories/team/app/tags'), 404, 'NOT_FOUND');
      refused(await call('GET', '/projects/team'), 404, 'NOT_FOUND');
    });

    it('a token without the management scope, a forged one, or one of a disabled user: 401', async () => {
      const pullOnly = { authorization: `Bearer ${await token('alice', PASSWORD, 'repository:team/app:pull')}` };
      const r = await call('GET', '/whoami', pullOnly);
      refused(r, 401, 'UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      refused(await call('GET', '/whoami', { authorization: 'Bearer not.a.jwt' }), 401, 'UNAUTHORIZED');
      refused(await call('GET', '/whoami', { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` }), 401, 'UNAUTHORIZED');
      const dana = await bearer('dana');
      expect((await call('GET', '/whoami', dana)).status).toBe(200);
      expect((await call('PATCH', '/users/dana', root, { disabled: true })).status).toBe(200);
      refused(await call('GET', '/whoami', dana), 401, 'UNAUTHORIZED');
      expect((await call('PATCH', '/users/dana', root, { disabled: false })).body.disabled).toBe(false);
    });

    it('a guest adding a member, another project\'s admin, a robot managing users or members: 403', async () => {
      refused(await call('PUT', '/projects/team/members/carol', bob, { role: 'developer' }), 403, 'DENIED');
      refused(await call('PUT', '/projects/team/members/bob', carol, { role: 'admin' }), 403, 'DENIED');
      refused(await call('POST', '/projects/team/robots', carol, { name: 'x', actions: ['pull'] }), 403, 'DENIED');
      refused(await call('GET', '/users', robot), 403, 'DENIED');
      refused(await call('POST', '/users', robot, { name: 'evil', password: PASSWORD }), 403, 'DENIED');
      refused(await call('PUT', '/projects/team/members/carol', robot, { role: 'guest' }), 403, 'DENIED');
      refused(await call('GET', '/users', alice), 403, 'DENIED');
      refused(await call('POST', '/projects', alice, { name: 'mine' }), 403, 'DENIED');
      refused(await call('PATCH', '/projects/team', bob, { public: true }), 403, 'DENIED');
      refused(await call('GET', '/robots', alice), 403, 'DENIED');
    });
  });

  describe('identity and users', () => {
    it('whoami: a user with its projects and roles; a robot with its project and actions', async () => {
      const me = await call('GET', '/whoami', alice);
      expect(me.body).toMatchObject({ kind: 'user', name: 'alice', admin: false, disabled: false, projects: [{ project: 'team', role: 'admin' }] });
      expect(JSON.stringify(me.body)).not.toMatch(/argon2|passwordHash/);
      expect(me.headers.get('cache-control')).toBe('private, no-store');
      expect((await call('GET', '/whoami', robot)).body).toMatchObject({ kind: 'robot', name: 'robot$team+ci', project: 'team', actions: ['pull', 'push'] });
    });

    it('users: created by a system admin (validated), listed a page at a time, never with a hash', async () => {
      const made = await call('POST', '/users', root, { name: 'erin', password: PASSWORD });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ name: 'erin', admin: false, disabled: false });
      refused(await call('POST', '/users', root, { name: 'erin', password: PASSWORD }), 409, 'CONFLICT');
      refused(await call('POST', '/users', root, { name: 'Bad Name', password: PASSWORD }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/users', root, { name: 'frank', password: 'short' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/users', root, { name: 'frank', password: PASSWORD, role: 'admin' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/users', root, { name: 'frank', password: PASSWORD, admin: 'yes' }), 400, 'INVALID_REQUEST');
      refused(await call('PATCH', '/users/nobody', root, { disabled: true }), 404, 'NOT_FOUND');
      const form = await fetch(`${target().url}/api/v1/users`, { method: 'POST', headers: { ...root, 'content-type': 'application/x-www-form-urlencoded' }, body: `name=frank&password=${PASSWORD}` });
      expect(form.status).toBe(415);
      const broken = await fetch(`${target().url}/api/v1/users`, { method: 'POST', headers: { ...root, 'content-type': 'application/json' }, body: '{"name":' });
      expect(broken.status).toBe(400);
      const first = await call('GET', '/users?n=2', root);
      expect(first.body.users.map((u: { name: string }) => u.name)).toEqual(['alice', 'bob']);
      expect(first.body.next).toBe('bob');
      expect(first.headers.get('link')).toBe('</api/v1/users?n=2&last=bob>; rel="next"');
      const rest = await call('GET', '/users?n=100&last=bob', root);
      expect(rest.body.users.map((u: { name: string }) => u.name)).toEqual(['carol', 'dana', 'erin', 'root']);
      expect(rest.body.next).toBeNull();
      expect(JSON.stringify([first.body, rest.body])).not.toMatch(/argon2|passwordHash/);
      refused(await call('GET', '/users?n=0', root), 400, 'PAGINATION_NUMBER_INVALID');
      refused(await call('GET', '/users?n=x', root), 400, 'PAGINATION_NUMBER_INVALID');
    });
  });

  describe('projects, members, policy', () => {
    it('projects: each caller sees its own and the public ones, with its role; a system admin creates them', async () => {
      const names = async (auth: Record<string, string>) => ((await call('GET', '/projects', auth)).body.projects as { name: string }[]).map((p) => p.name);
      expect(await names(alice)).toEqual(['pub', 'team']);
      expect(await names(carol)).toEqual(['other', 'pub']);
      expect(await names(robot)).toEqual(['pub', 'team']);
      expect((await call('GET', '/projects/team', alice)).body).toMatchObject({ name: 'team', public: false, role: 'admin' });
      refused(await call('GET', '/projects/team', carol), 404, 'NOT_FOUND');
      expect((await call('POST', '/projects', root, { name: 'fresh', public: true })).status).toBe(201);
      refused(await call('POST', '/projects', root, { name: 'fresh' }), 409, 'CONFLICT');
      refused(await call('POST', '/projects', root, { name: 'Not/Valid' }), 400, 'INVALID_REQUEST');
      const page = await call('GET', '/projects?n=2', root);
      expect(page.body.projects.map((p: { name: string }) => p.name)).toEqual(['fresh', 'other']);
      expect(page.body.next).toBe('other');
    });

    it('visibility: the project admin makes it public (anonymous then sees it) and private again', async () => {
      refused(await call('PATCH', '/projects/team', alice, { public: 'yes' }), 400, 'INVALID_REQUEST');
      refused(await call('PATCH', '/projects/team', alice, {}), 400, 'INVALID_REQUEST');
      expect((await call('PATCH', '/projects/team', alice, { public: true })).body).toMatchObject({ name: 'team', public: true });
      expect(((await call('GET', '/projects')).body.projects as { name: string }[]).map((p) => p.name)).toContain('team');
      expect((await call('PATCH', '/projects/team', alice, { public: false })).body.public).toBe(false);
      refused(await call('GET', '/projects/team'), 404, 'NOT_FOUND');
    });

    it('members: the project admin adds, changes and removes them; roles and users are checked', async () => {
      refused(await call('PUT', '/projects/team/members/carol', alice, { role: 'owner' }), 400, 'INVALID_REQUEST');
      refused(await call('PUT', '/projects/team/members/nobody', alice, { role: 'guest' }), 404, 'NOT_FOUND');
      refused(await call('PUT', '/projects/nothere/members/carol', alice, { role: 'guest' }), 404, 'NOT_FOUND');
      expect((await call('PUT', '/projects/team/members/carol', alice, { role: 'developer' })).body).toEqual({ project: 'team', user: 'carol', role: 'developer' });
      const members = await call('GET', '/projects/team/members', alice);
      expect(members.body.members).toContainEqual({ user: 'carol', role: 'developer' });
      refused(await call('GET', '/projects/team/members', bob), 403, 'DENIED');
      expect((await call('DELETE', '/projects/team/members/carol', alice)).status).toBe(204);
      refused(await call('DELETE', '/projects/team/members/carol', alice), 404, 'NOT_FOUND');
      // A membership given through the API counts at once (rights are read per call).
      expect((await call('PUT', '/projects/team/members/bob', alice, { role: 'admin' })).status).toBe(200);
      expect((await call('GET', '/projects/team/members', bob)).status).toBe(200);
      expect((await call('PUT', '/projects/team/members/bob', alice, { role: 'guest' })).status).toBe(200);
    });

    it('tag immutability rules: added and removed by the project admin, inside the project only', async () => {
      const added = await call('POST', '/projects/team/immutable-rules', alice, { repositories: 'team/*', tags: 'v*' });
      expect(added.body).toEqual({ project: 'team', immutableTags: [{ repositories: 'team/*', tags: 'v*' }] });
      refused(await call('POST', '/projects/team/immutable-rules', alice, { repositories: 'other/*', tags: 'v*' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/immutable-rules', bob, { repositories: 'team/*', tags: 'x*' }), 403, 'DENIED');
      expect((await call('GET', '/projects/team', alice)).body.immutableTags).toEqual([{ repositories: 'team/*', tags: 'v*' }]);
      expect((await call('DELETE', '/projects/team/immutable-rules?repositories=team%2F*&tags=v*', alice)).status).toBe(204);
      refused(await call('DELETE', '/projects/team/immutable-rules?repositories=team%2F*&tags=v*', alice), 400, 'INVALID_REQUEST');
    });

    it('retention rules and protect patterns: shown to whoever sees the project, changed by its admin only, each rule checked', async () => {
      const empty = { project: 'team', retention: [], retentionProtect: [], immutableTags: [] };
      expect((await call('GET', '/projects/team/policy', alice)).body).toEqual(empty);
      expect((await call('GET', '/projects/team/policy', robot)).body).toEqual(empty);
      refused(await call('GET', '/projects/team/policy', carol), 404, 'NOT_FOUND');
      refused(await call('GET', '/projects/team/policy'), 404, 'NOT_FOUND');

      const added = await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: 'pr-*', olderThanDays: 30 });
      expect(added.status).toBe(200);
      expect(added.body).toEqual({ project: 'team', retention: [{ repositories: 'team/*', tags: 'pr-*', olderThanDays: 30 }], retentionProtect: [] });
      expect((await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/app', tags: '*', keep: 5 })).status).toBe(200);
      // Not one limit, two limits, a limit out of range, a pattern outside the project, an unknown field, a caller who is not the admin.
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: '*' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: '*', keep: 1, notPulledDays: 9 }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: '*', keep: 0 }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: '*', keep: '5' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'other/*', tags: '*', keep: 5 }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', alice, { repositories: 'team/*', tags: '*', keep: 5, days: 3 }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/retention-rules', bob, { repositories: 'team/*', tags: '*', keep: 5 }), 403, 'DENIED');
      refused(await call('POST', '/projects/team/retention-rules', robot, { repositories: 'team/*', tags: '*', keep: 5 }), 403, 'DENIED');

      expect((await call('POST', '/projects/team/protect-rules', alice, { repositories: 'team/*', tags: 'release-*' })).body.retentionProtect).toEqual([{ repositories: 'team/*', tags: 'release-*' }]);
      refused(await call('POST', '/projects/team/protect-rules', bob, { repositories: 'team/*', tags: 'x*' }), 403, 'DENIED');
      expect((await call('GET', '/projects/team/policy', bob)).body).toEqual({
        project: 'team', immutableTags: [],
        retention: [{ repositories: 'team/*', tags: 'pr-*', olderThanDays: 30 }, { repositories: 'team/app', tags: '*', keep: 5 }],
        retentionProtect: [{ repositories: 'team/*', tags: 'release-*' }],
      });

      // A DELETE names the whole rule; one that is not there is refused.
      expect((await call('DELETE', '/projects/team/retention-rules?repositories=team%2F*&tags=pr-*&olderThanDays=30', alice)).status).toBe(204);
      refused(await call('DELETE', '/projects/team/retention-rules?repositories=team%2F*&tags=pr-*&olderThanDays=30', alice), 400, 'INVALID_REQUEST');
      refused(await call('DELETE', '/projects/team/retention-rules?repositories=team%2Fapp&tags=*&keep=6', alice), 400, 'INVALID_REQUEST');
      refused(await call('DELETE', '/projects/team/retention-rules?repositories=team%2Fapp&tags=*&keep=five', alice), 400, 'INVALID_REQUEST');
      refused(await call('DELETE', '/projects/team/retention-rules?repositories=team%2Fapp&tags=*', alice), 400, 'INVALID_REQUEST');
      refused(await call('DELETE', '/projects/team/retention-rules?repositories=team%2Fapp&tags=*&keep=5', bob), 403, 'DENIED');
      expect((await call('DELETE', '/projects/team/retention-rules?repositories=team%2Fapp&tags=*&keep=5', alice)).status).toBe(204);
      expect((await call('DELETE', '/projects/team/protect-rules?repositories=team%2F*&tags=release-*', alice)).status).toBe(204);
      refused(await call('DELETE', '/projects/team/protect-rules?repositories=team%2F*&tags=release-*', alice), 400, 'INVALID_REQUEST');
      expect((await call('GET', '/projects/team/policy', alice)).body).toEqual(empty);
    });
  });

  describe('access tokens, trust rules, the audit trail', () => {
    let ruleId = '';

    it('personal access tokens: the user (or a system admin) creates, lists and revokes them; the token signs in until revoked', async () => {
      expect((await call('GET', '/users/alice/tokens', alice)).body).toEqual({ tokens: [], next: null });
      const made = await call('POST', '/users/alice/tokens', alice, { name: 'laptop', expires: '30d' });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(made.body).toMatchObject({ user: 'alice', name: 'laptop', revoked: false, token: expect.stringMatching(/^pat\.laptop\./) });
      expect(await token('alice', made.body.token)).toBeTruthy();
      refused(await call('POST', '/users/alice/tokens', alice, { name: 'laptop' }), 409, 'CONFLICT');
      refused(await call('POST', '/users/alice/tokens', alice, { name: 'Bad Name' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/users/alice/tokens', alice, { name: 'x', secret: 'mine' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/users/alice/tokens', bob, { name: 'stolen' }), 403, 'DENIED');
      refused(await call('GET', '/users/alice/tokens', robot), 403, 'DENIED');
      refused(await call('GET', '/users/alice/tokens'), 401, 'UNAUTHORIZED');
      refused(await call('GET', '/users/nobody/tokens', root), 404, 'NOT_FOUND');
      const listed = (await call('GET', '/users/alice/tokens', root)).body.tokens;
      expect(listed).toEqual([expect.objectContaining({ name: 'laptop', revoked: false })]);
      expect(JSON.stringify(listed)).not.toContain(made.body.token.split('.')[2]);
      refused(await call('DELETE', '/users/alice/tokens/laptop', bob), 403, 'DENIED');
      expect((await call('DELETE', '/users/alice/tokens/laptop', alice)).status).toBe(204);
      refused(await call('DELETE', '/users/alice/tokens/nothere', alice), 404, 'NOT_FOUND');
      expect((await call('GET', '/users/alice/tokens', alice)).body.tokens[0].revoked).toBe(true);
      const r = await fetch(`${target().url}/token?service=${encodeURIComponent(client.service)}`, { headers: { authorization: `Basic ${Buffer.from(`alice:${made.body.token}`).toString('base64')}` } });
      expect(r.status).toBe(401);
    });

    it('trust rules: the project admin adds, lists and removes them; every field is checked', async () => {
      const added = await call('POST', '/projects/team/trust-rules', alice, { github: 'acme/app', ownerId: '101', repositoryId: '202', ref: 'main', maxSeconds: 1800 });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      expect(added.body).toMatchObject({ project: 'team', github: 'acme/app', ownerId: '101', repositoryId: '202', ref: 'refs/heads/main', actions: ['pull', 'push'], maxSeconds: 1800 });
      ruleId = added.body.id;
      for (const bad of [{ github: 'acme/app', ownerId: 'acme', repositoryId: '202' }, { github: 'not a repo', ownerId: '1', repositoryId: '2' }, { github: 'acme/app', ownerId: '1' },
        { github: 'acme/app', ownerId: '1', repositoryId: '2', maxSeconds: 10 }, { github: 'acme/app', ownerId: '1', repositoryId: '2', maxSeconds: '1h' },
        { github: 'acme/app', ownerId: '1', repositoryId: '2', actions: ['admin'] }, { github: 'acme/app', ownerId: '1', repositoryId: '2', pullRequests: true }]) {
        refused(await call('POST', '/projects/team/trust-rules', alice, bad), 400, 'INVALID_REQUEST');
      }
      refused(await call('POST', '/projects/team/trust-rules', bob, { github: 'acme/app', ownerId: '1', repositoryId: '2' }), 403, 'DENIED');
      refused(await call('GET', '/projects/team/trust-rules', robot), 403, 'DENIED');
      expect((await call('GET', '/projects/team/trust-rules', alice)).body.rules.map((r: { id: string }) => r.id)).toEqual([ruleId]);
      refused(await call('DELETE', `/projects/team/trust-rules/${ruleId}`, bob), 403, 'DENIED');
      expect((await call('DELETE', `/projects/team/trust-rules/${ruleId}`, alice)).status).toBe(204);
      refused(await call('DELETE', `/projects/team/trust-rules/${ruleId}`, alice), 404, 'NOT_FOUND');
    });

    it('the audit trail: a project\'s entries for its admin, every entry for a system admin, newest first', async () => {
      const team = (await call('GET', '/projects/team/audit?since=1h', alice)).body.entries as { action: string; actor: string; target?: string }[];
      expect(team.slice(0, 2).map((e) => [e.action, e.actor, e.target])).toEqual([['admin.trust.remove', 'alice', ruleId], ['admin.trust.add', 'alice', ruleId]]);
      expect((await call('GET', '/projects/team/audit?n=1', alice)).body.entries).toHaveLength(1);
      refused(await call('GET', '/projects/team/audit', bob), 403, 'DENIED');
      refused(await call('GET', '/audit', alice), 403, 'DENIED');
      refused(await call('GET', '/audit?since=yesterday', root), 400, 'INVALID_REQUEST');
      const wide = (await call('GET', '/audit?project=', root)).body.entries as { action: string; actor: string; target?: string; project: string | null }[];
      expect(wide.find((e) => e.action === 'admin.token.revoke')).toMatchObject({ actor: 'alice', target: 'alice/laptop', project: null });
      expect((await call('GET', '/audit?since=2999-01-01', root)).body.entries).toEqual([]);
      const all = (await call('GET', '/audit?n=1000', root)).body.entries as { project: string | null }[];
      expect(all.some((e) => e.project === 'team') && all.some((e) => e.project === null)).toBe(true);
    });
  });

  describe('robots', () => {
    it('created with its secret shown once, which logs in; listed without it; rotated; revoked', async () => {
      refused(await call('POST', '/projects/team/robots', alice, { name: 'bad', actions: ['pull', 'fly'] }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/robots', alice, { name: 'bad', actions: [] }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/robots', alice, { name: 'bad', actions: ['pull'], expires: 'tomorrow' }), 400, 'INVALID_REQUEST');
      refused(await call('POST', '/projects/team/robots', alice, { name: 'Bad Name', actions: ['pull'] }), 400, 'INVALID_REQUEST');
      const made = await call('POST', '/projects/team/robots', alice, { name: 'deploy', actions: ['pull'], expires: 'never' });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ name: 'robot$team+deploy', project: 'team', actions: ['pull'], expiresAt: 'never', revoked: false });
      const secret = made.body.secret as string;
      expect(secret.length).toBeGreaterThan(30);
      refused(await call('POST', '/projects/team/robots', alice, { name: 'deploy', actions: ['pull'] }), 409, 'CONFLICT');
      await token('robot$team+deploy', secret, 'repository:team/app:pull');
      const listed = await call('GET', '/projects/team/robots', alice);
      expect(listed.body.robots.map((r: { name: string }) => r.name)).toEqual(['robot$team+ci', 'robot$team+deploy']);
      expect(JSON.stringify(listed.body)).not.toContain(secret);
      expect(JSON.stringify(listed.body)).not.toMatch(/secret/i);
      const rotated = await call('POST', '/projects/team/robots/deploy/rotate', alice);
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(secret);
      const old = await fetch(`${target().url}/token?service=${encodeURIComponent(client.service)}`, { headers: { authorization: `Basic ${Buffer.from(`robot$team+deploy:${secret}`).toString('base64')}` } });
      expect(old.status).toBe(401);
      await token('robot$team+deploy', rotated.body.secret as string);
      expect((await call('DELETE', '/projects/team/robots/deploy', alice)).status).toBe(204);
      const revoked = await fetch(`${target().url}/token?service=${encodeURIComponent(client.service)}`, { headers: { authorization: `Basic ${Buffer.from(`robot$team+deploy:${rotated.body.secret as string}`).toString('base64')}` } });
      expect(revoked.status).toBe(401);
      expect((await call('GET', '/projects/team/robots', alice)).body.robots[1]).toMatchObject({ name: 'robot$team+deploy', revoked: true });
      refused(await call('POST', '/projects/team/robots/ghost/rotate', alice), 404, 'NOT_FOUND');
      refused(await call('DELETE', '/projects/other/robots/ci', alice), 403, 'DENIED');
    });

    it('system robots: system administrators only', async () => {
      const made = await call('POST', '/robots', root, { name: 'mirror', actions: ['pull'], expires: '12h' });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ name: 'robot$mirror', project: null });
      expect((await call('GET', '/robots', root)).body.robots.map((r: { name: string }) => r.name)).toEqual(['robot$mirror']);
      refused(await call('POST', '/robots/mirror/rotate', alice), 403, 'DENIED');
    });
  });

  describe('browsing', () => {
    it('repositories of a project, tags with what they point at, one artifact with its parts, platforms and referrers', async () => {
      const repos = await call('GET', '/projects/team/repositories?fields=name', bob);
      expect(repos.body.repositories).toEqual([{ name: 'team/app' }]);
      refused(await call('GET', '/projects/team/repositories', carol), 404, 'NOT_FOUND');
      // A pull by tag is recorded (once a day per tag): the list shows when; a tag never pulled, null.
      const pull = { authorization: `Bearer ${await token('bob', PASSWORD, 'repository:team/app:pull')}`, accept: OCI_MANIFEST };
      expect((await fetch(`${target().url}/v2/team/app/manifests/v1`, { headers: pull })).status).toBe(200);
      const tags = await call('GET', '/repositories/team/app/tags', robot);
      expect(tags.body.tags).toEqual([
        { name: 'multi', digest: image.index, mediaType: OCI_INDEX, size: expect.any(Number), lastPulled: null },
        { name: 'v1', digest: image.digest, mediaType: OCI_MANIFEST, size: expect.any(Number), lastPulled: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ]);
      const paged = await call('GET', '/repositories/team/app/tags?n=1', bob);
      expect(paged.body).toMatchObject({ tags: [{ name: 'multi' }], next: 'multi' });
      const one = await call('GET', '/repositories/team/app/artifacts/v1', bob);
      expect(one.body).toMatchObject({
        repository: 'team/app', digest: image.digest, mediaType: OCI_MANIFEST, config: { digest: EMPTY_DESCRIPTOR.digest, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 2048 }],
        referrers: [{ digest: image.referrer, artifactType: 'application/spdx+json' }],
      });
      const index = await call('GET', `/repositories/team/app/artifacts/${image.index}`, bob);
      expect(index.body.manifests).toEqual([{ digest: image.digest, mediaType: OCI_MANIFEST, size: expect.any(Number), platform: { os: 'linux', architecture: 'arm64' }, artifactType: null }]);
      const sbom = await call('GET', `/repositories/team/app/artifacts/${image.referrer}`, bob);
      expect(sbom.body).toMatchObject({ artifactType: 'application/spdx+json', subject: image.digest });
      refused(await call('GET', '/repositories/team/app/artifacts/nope', bob), 404, 'NOT_FOUND');
      refused(await call('GET', '/repositories/team/app/artifacts/sha256:zz', bob), 400, 'DIGEST_INVALID');
      refused(await call('GET', '/repositories/team/app/artifacts/v1', carol), 404, 'NOT_FOUND');
      refused(await call('GET', '/repositories/team/ghost/tags', alice), 404, 'NOT_FOUND');
      refused(await call('GET', '/repositories/Team/App/tags', alice), 400, 'NAME_INVALID');
    });

    it('unknown paths and methods: 404 and 405 with the OCI error body, never a 500', async () => {
      refused(await call('GET', '/nothing', alice), 404, 'NOT_FOUND');
      const wrong = await call('DELETE', '/whoami', alice);
      refused(wrong, 405, 'UNSUPPORTED');
      expect(wrong.headers.get('allow')).toBe('GET');
      refused(await call('GET', '/projects/%E0%A4%A/members', alice), 404, 'UNSUPPORTED');
    });
  });
}
