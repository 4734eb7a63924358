// The IdentityStore contract: every adapter (SQLite, DynamoDB) runs it.
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, type IdentityStore } from '../../functions/core/auth/identity-store.ts';
import type { AccessToken, TrustRule } from '../../functions/core/auth/credential-store.ts';
import type { Robot, User } from '../../functions/core/auth/model.ts';

export function identityStoreContract(name: string, open: () => Promise<{ store: IdentityStore; close?: () => Promise<void> }>): void {
  const user = (n: string, extra: Partial<User> = {}): User => ({ name: n, passwordHash: '$argon2id$x', admin: false, disabled: false, created: 1, ...extra });
  const robot = (n: string, project?: string): Robot => ({
    name: project ? `robot$${project}+${n}` : `robot$${n}`, ...(project ? { project } : {}), actions: ['pull'], secretHash: 'h', expiresAt: null, revoked: false, created: 1,
  });

  describe(`IdentityStore contract: ${name}`, () => {
    it('users: create once, replace, read back, list in name order', async () => {
      const { store, close } = await open();
      try {
        expect(await store.getUser('alice')).toBeUndefined();
        await store.putUser(user('bob'), { create: true });
        await store.putUser(user('alice', { admin: true }), { create: true });
        await expect(store.putUser(user('alice'), { create: true })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect((await store.getUser('alice'))?.admin).toBe(true);
        await store.putUser(user('alice', { disabled: true }), { create: false });
        expect(await store.getUser('alice')).toEqual(user('alice', { disabled: true }));
        expect((await store.listUsers()).map((u) => u.name)).toEqual(['alice', 'bob']);
      } finally {
        await close?.();
      }
    });

    it('projects and roles: create once, visibility, members both ways, removal', async () => {
      const { store, close } = await open();
      try {
        await store.putProject({ name: 'team', public: false, created: 1 }, { create: true });
        await expect(store.putProject({ name: 'team', public: true, created: 2 }, { create: true })).rejects.toBeInstanceOf(AlreadyExistsError);
        await store.putProject({ name: 'team', public: true, created: 1 }, { create: false });
        await store.putProject({ name: 'apps', public: false, created: 1 }, { create: true });
        expect((await store.getProject('team'))?.public).toBe(true);
        expect((await store.listProjects()).map((p) => p.name)).toEqual(['apps', 'team']);
        await store.setRole('team', 'bob', 'developer');
        await store.setRole('apps', 'bob', 'guest');
        await store.setRole('team', 'alice', 'admin');
        expect(await store.getRole('team', 'bob')).toBe('developer');
        await store.setRole('team', 'bob', 'maintainer');
        expect(await store.listMembers('team')).toEqual([{ user: 'alice', role: 'admin' }, { user: 'bob', role: 'maintainer' }]);
        expect(await store.rolesOf('bob')).toEqual([{ project: 'apps', role: 'guest' }, { project: 'team', role: 'maintainer' }]);
        await store.setRole('team', 'bob', undefined);
        expect(await store.getRole('team', 'bob')).toBeUndefined();
        expect(await store.rolesOf('bob')).toEqual([{ project: 'apps', role: 'guest' }]);
      } finally {
        await close?.();
      }
    });

    it('robots: create once, by project and system-wide, revoke', async () => {
      const { store, close } = await open();
      try {
        await store.putRobot(robot('ci', 'team'), { create: true });
        await store.putRobot(robot('backup'), { create: true });
        await store.putRobot(robot('deploy', 'team'), { create: true });
        await expect(store.putRobot(robot('ci', 'team'), { create: true })).rejects.toBeInstanceOf(AlreadyExistsError);
        expect((await store.listRobots('team')).map((r) => r.name)).toEqual(['robot$team+ci', 'robot$team+deploy']);
        expect((await store.listRobots()).map((r) => r.name)).toEqual(['robot$backup']);
        await store.putRobot({ ...robot('ci', 'team'), revoked: true }, { create: false });
        expect((await store.getRobot('robot$team+ci'))?.revoked).toBe(true);
        expect((await store.getRobot('robot$backup'))?.project).toBeUndefined();
        expect(await store.getRobot('robot$nope+x')).toBeUndefined();
      } finally {
        await close?.();
      }
    });

    it('trust rules: create once, by project and by the repository they trust, delete both ways', async () => {
      const { store, close } = await open();
      const rule = (id: string, project: string, repositoryId: string, issuer = 'https://issuer.example'): TrustRule => ({
        id, project, issuer, repository: 'o/r', repositoryOwnerId: '1', repositoryId, actions: ['pull', 'push'], maxSeconds: 3600, created: 1, ref: 'refs/heads/main',
      });
      try {
        await store.putTrustRule(rule('b2', 'team', '42'));
        await store.putTrustRule(rule('a1', 'team', '43'));
        await store.putTrustRule(rule('c3', 'apps', '42'));
        await store.putTrustRule(rule('d4', 'apps', '42', 'https://other.example'));
        await expect(store.putTrustRule(rule('b2', 'team', '99'))).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await store.getTrustRule('team', 'b2')).toEqual(rule('b2', 'team', '42'));
        expect(await store.getTrustRule('apps', 'b2')).toBeUndefined();
        expect((await store.listTrustRules('team')).map((r) => r.id)).toEqual(['a1', 'b2']);
        expect((await store.trustRulesFor('https://issuer.example', '42')).map((r) => `${r.project}/${r.id}`).sort()).toEqual(['apps/c3', 'team/b2']);
        expect(await store.deleteTrustRule('team', 'b2')).toBe(true);
        expect(await store.deleteTrustRule('team', 'b2')).toBe(false);
        expect((await store.trustRulesFor('https://issuer.example', '42')).map((r) => r.id)).toEqual(['c3']);
        expect(await store.getTrustRule('team', 'b2')).toBeUndefined();
      } finally {
        await close?.();
      }
    });

    it('access tokens: create once per user and name, replace, list by user', async () => {
      const { store, close } = await open();
      const token = (user: string, name: string, extra: Partial<AccessToken> = {}): AccessToken => ({ user, name, secretHash: 'h', expiresAt: null, revoked: false, created: 1, ...extra });
      try {
        await store.putAccessToken(token('alice', 'laptop'), { create: true });
        await store.putAccessToken(token('alice', 'ci', { expiresAt: 5 }), { create: true });
        await store.putAccessToken(token('bob', 'ci'), { create: true });
        await expect(store.putAccessToken(token('alice', 'ci'), { create: true })).rejects.toBeInstanceOf(AlreadyExistsError);
        await store.putAccessToken(token('alice', 'ci', { expiresAt: 5, revoked: true }), { create: false });
        expect(await store.getAccessToken('alice', 'ci')).toEqual(token('alice', 'ci', { expiresAt: 5, revoked: true }));
        expect(await store.getAccessToken('carol', 'ci')).toBeUndefined();
        expect((await store.listAccessTokens('alice')).map((t) => t.name)).toEqual(['ci', 'laptop']);
        expect((await store.listAccessTokens('bob')).map((t) => t.name)).toEqual(['ci']);
      } finally {
        await close?.();
      }
    });
  });
}
