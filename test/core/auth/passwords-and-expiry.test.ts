// Two defaults people rely on without seeing them: a password hash made with older argon2id
// parameters is redone with today's at the next good login (never at a bad one), and a robot made
// without --expires lives 90 days ("never" only when asked for, and shown as such).
import { randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { SqliteIdentityStore } from '../../../functions/adapters/sqlite/sqlite-identity.ts';
import { addUser, createProject, createRobot, DEFAULT_ROBOT_DAYS, publicRobot } from '../../../functions/core/auth/admin.ts';
import { AuthenticationError, byPassword } from '../../../functions/core/auth/authenticate.ts';
import { ARGON2_PARAMS, needsRehash, verifyPassword } from '../../../functions/core/auth/passwords.ts';

const PASSWORD = 'a long enough password';

describe('argon2id parameters', () => {
  it('a hash with older parameters is redone at the next good login, with today\'s; a wrong password changes nothing', async () => {
    const store = new SqliteIdentityStore(':memory:');
    const user = await addUser(store, 'alice', PASSWORD, false);
    // What an earlier release stored: the same password under weaker parameters.
    const old = await argon2id({ password: PASSWORD, salt: randomBytes(16), memorySize: 4096, iterations: 1, parallelism: 1, hashLength: 32, outputType: 'encoded' });
    await store.putUser({ ...user, passwordHash: old }, { create: false });
    expect(needsRehash(old)).toBe(true);

    await expect(byPassword(store, 'alice', 'not the password at all')).rejects.toBeInstanceOf(AuthenticationError);
    expect((await store.getUser('alice'))!.passwordHash).toBe(old);

    await byPassword(store, 'alice', PASSWORD);
    const now = (await store.getUser('alice'))!.passwordHash;
    expect(now).not.toBe(old);
    expect(now).toContain(`$m=${ARGON2_PARAMS.memorySize},t=${ARGON2_PARAMS.iterations},p=${ARGON2_PARAMS.parallelism}$`);
    expect(needsRehash(now)).toBe(false);
    expect(await verifyPassword(PASSWORD, now)).toBe(true);
    // Already current: a login leaves it as it is.
    await byPassword(store, 'alice', PASSWORD);
    expect((await store.getUser('alice'))!.passwordHash).toBe(now);
    store.close();
  });
});

describe('robot expiry', () => {
  it('without --expires a robot lives 90 days; "never" is kept and shown as never', async () => {
    const store = new SqliteIdentityStore(':memory:');
    await createProject(store, 'team', false);
    const now = Date.parse('2026-12-01T00:00:00Z');
    const plain = await createRobot(store, 'team', 'ci', { actions: ['pull'] }, now);
    expect(DEFAULT_ROBOT_DAYS).toBe(90);
    expect(plain.robot.expiresAt).toBe(now + 90 * 86_400_000);
    expect(publicRobot(plain.robot).expiresAt).toBe('2027-03-01T00:00:00.000Z');
    const forever = await createRobot(store, 'team', 'mirror', { actions: ['pull'], expires: 'never' }, now);
    expect(forever.robot.expiresAt).toBeNull();
    expect(publicRobot((await store.getRobot(forever.robot.name))!).expiresAt).toBe('never');
    store.close();
  });
});
