// The audit trail end to end, the same on both backends (`npm start` on SQLite; start:aws on
// DynamoDB Local behind the front door): admin changes, a failed login, a login, a token exchange,
// a robot's login, a push, a mount, a tag delete, a manifest delete, a blob delete, each an entry
// with who, what, when and the client's address (as the server sees it, whatever X-Forwarded-For or
// CloudFront-Viewer-Address the client sends), and no secret anywhere in them; pulls counted.
import { describe, expect, it } from 'vitest';
import { AuditRecorder, type AuditEntry, type AuditLog } from '../../functions/core/audit.ts';
import { addUser, createProject, createRobot, revokeRobot, setMember } from '../../functions/core/auth/admin.ts';
import { auditedIdentityStore } from '../../functions/core/auth/audited-admin.ts';
import type { IdentityStore } from '../../functions/core/auth/identity-store.ts';
import { listAudit } from '../../functions/apps/admin-cli/audit-commands.ts';
import { OCI_MANIFEST } from '../support/oci.ts';
import { pushTinyImage } from '../support/tiny-image.ts';

export interface AuditHarness {
  url: string;
  identity: IdentityStore;
  audit: AuditLog;
  /** After the actions: e.g. stop the server, which writes its pull counts. Returns the log lines when it has them. */
  settle(): Promise<string[] | undefined>;
  /**
   * The pull-count window, when short: the test waits it out after the pulls, and the next audited
   * action writes the counts (start:aws). Else settle() writes them (a stopped `npm start`).
   */
  pullWindowMs?: number;
}

const PASSWORD = 'correct horse battery staple';
const FORGED = '198.51.100.66';
const forged = { 'x-forwarded-for': FORGED, 'cloudfront-viewer-address': `${FORGED}:443` };
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

export function auditTrailContract(name: string, open: () => Promise<AuditHarness>): void {
  describe(`audit trail: ${name}`, () => {
    it('every audited action is an entry with who, what, when and from where; no secret in any', { timeout: 120_000 }, async () => {
      const h = await open();
      const started = Date.now();
      const admin = auditedIdentityStore(h.identity, new AuditRecorder({ store: h.audit, log: () => undefined }), { actor: 'cli:tester', address: 'admin-host' });
      await addUser(admin, 'alice', PASSWORD, false);
      await createProject(admin, 'team', false);
      await setMember(admin, 'team', 'alice', 'maintainer');
      const robot = await createRobot(admin, 'team', 'ci', { actions: ['pull', 'push'] });

      const token = async (query: string, headers: Record<string, string>, status = 200) => {
        const r = await fetch(`${h.url}/token?${query}`, { headers: { ...forged, ...headers } });
        expect(r.status).toBe(status);
        return status === 200 ? ((await r.json()) as { token: string; refresh_token?: string }) : undefined;
      };
      await token('scope=repository:team/app:pull', basic('alice', 'not the password'), 401);
      const login = (await token('offline_token=true&scope=repository:team/app:pull,push,delete', basic('alice', PASSWORD)))!;
      const refreshed = await fetch(`${h.url}/token`, {
        method: 'POST', headers: { ...forged, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: login.refresh_token!, scope: 'repository:team/other:pull,push,delete repository:team/app:pull' }),
      });
      expect(refreshed.status).toBe(200);
      const other = ((await refreshed.json()) as { token: string }).token;
      const robotToken = (await token('scope=repository:team/app:pull', basic(robot.robot.name, robot.secret)))!;

      const asAlice = { ...forged, authorization: `Bearer ${login.token}` };
      const { image, put } = await pushTinyImage(h.url, 'team/app', 'v1', asAlice);
      expect(put.status).toBe(201);
      for (const auth of [asAlice, { authorization: `Bearer ${robotToken.token}` }]) {
        const r = await fetch(`${h.url}/v2/team/app/manifests/v1`, { headers: { ...auth, accept: OCI_MANIFEST } });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
      if (h.pullWindowMs) await new Promise((resolve) => setTimeout(resolve, h.pullWindowMs! + 100));
      const asOther = { ...forged, authorization: `Bearer ${other}` };
      const send = async (path: string, method: string, headers: Record<string, string>, status: number) => {
        const r = await fetch(`${h.url}${path}`, { method, headers });
        expect(r.status, `${method} ${path}: ${await r.text()}`).toBe(status);
      };
      await send(`/v2/team/other/blobs/uploads/?mount=${image.layerDigest}&from=team/app`, 'POST', asOther, 201);
      await send('/v2/team/app/manifests/v1', 'DELETE', asAlice, 202);
      await send(`/v2/team/app/manifests/${image.digest}`, 'DELETE', asAlice, 202);
      await send(`/v2/team/other/blobs/${image.layerDigest}`, 'DELETE', asOther, 202);
      await revokeRobot(admin, robot.robot.name);
      const lines = await h.settle();
      const ended = Date.now();

      const { entries } = await listAudit(h.audit, { since: new Date(started - 1000).toISOString(), limit: '1000' });
      const raw: AuditEntry[] = (await Promise.all(['', 'team'].map((project) => h.audit.list({ project, limit: 1000 })))).flat();
      const find = (action: string, actor: string, target?: string) => {
        const found = raw.filter((e) => e.action === action && e.actor === actor && (target === undefined || e.target === target));
        expect(found, `${action} by ${actor} on ${target}: ${JSON.stringify(entries)}`).toHaveLength(1);
        const e = found[0]!;
        expect(e.time).toBeGreaterThanOrEqual(started - 5);
        expect(e.time).toBeLessThanOrEqual(ended + 5);
        return e;
      };
      // Admin changes: by whoever the caller says (the CLI: its OS user, from its host).
      expect(find('admin.user.add', 'cli:tester', 'alice')).toMatchObject({ project: '', address: 'admin-host', detail: { admin: false } });
      expect(find('admin.project.create', 'cli:tester', 'team')).toMatchObject({ project: 'team', detail: { public: false } });
      expect(find('admin.member.set', 'cli:tester', 'alice')).toMatchObject({ project: 'team', detail: { role: 'maintainer' } });
      expect(find('admin.robot.create', 'cli:tester', robot.robot.name)).toMatchObject({ project: 'team', detail: { actions: 'pull,push' } });
      expect(find('admin.robot.revoke', 'cli:tester', robot.robot.name)).toMatchObject({ project: 'team' });
      // Requests: from the client's own address, never the forged one.
      const fromClient = [
        find('login.failed', 'alice'),
        find('login', 'alice'),
        find('token.refresh', 'alice'),
        find('push', 'alice', 'v1'),
        find('blob.mount', 'alice', image.layerDigest),
        find('tag.delete', 'alice', 'v1'),
        find('manifest.delete', 'alice', image.digest),
        find('blob.delete', 'alice', image.layerDigest),
      ];
      for (const e of fromClient) expect(e.address, e.action).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      expect(find('login', robot.robot.name).detail).toEqual({ scope: 'repository:team/app:pull' });
      expect(find('login', 'alice').detail).toEqual({ scope: 'repository:team/app:pull,push,delete' });
      expect(find('token.refresh', 'alice').detail).toEqual({ scope: 'repository:team/other:pull,push,delete repository:team/app:pull' });
      expect(find('push', 'alice', 'v1')).toMatchObject({ project: 'team', repository: 'team/app', detail: { digest: image.digest } });
      expect(find('blob.mount', 'alice', image.layerDigest)).toMatchObject({ repository: 'team/other', detail: { from: 'team/app' } });
      // The CLI's view: the same entries, newest first, across projects.
      expect(entries.map((e) => e.time)).toEqual([...entries.map((e) => e.time)].sort().reverse());
      // 5 admin changes, 3 logins (one failed), 1 exchange, 5 registry writes, and the pull counts.
      const pullCounts = raw.filter((e) => e.action === 'pull.count');
      expect(raw.length - pullCounts.length).toBe(14);
      expect(entries).toHaveLength(raw.length);
      // Two pulls of team/app: counted (in one entry, or two when a window ended between them), never an entry each.
      expect(pullCounts.every((e) => e.repository === 'team/app' && e.actor === 'registry')).toBe(true);
      expect(pullCounts.reduce((n, e) => n + Number(e.detail?.count), 0)).toBe(2);
      const everything = JSON.stringify(raw) + (lines ?? []).join('\n');
      for (const secret of [PASSWORD, robot.secret, login.token, login.refresh_token!, other, robotToken.token, 'not the password']) expect(everything).not.toContain(secret);
      expect(everything).not.toContain(FORGED);
      if (lines) {
        const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(logged.filter((l) => l.msg === 'pull' && l.repository === 'team/app')).toHaveLength(2);
        for (const action of ['push', 'login', 'login.failed', 'token.refresh', 'blob.mount', 'tag.delete', 'manifest.delete', 'blob.delete']) {
          expect(logged.some((l) => l.msg === 'audit' && l.action === action), action).toBe(true);
        }
      }
    });
  });
}
