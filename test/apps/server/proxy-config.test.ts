// The pull-through cache's settings of `npm start`: defaults, the mirror project, refusals.
import { expect, test } from 'vitest';
import { readConfig } from '../../../functions/apps/server/config.ts';
import { ConfigError } from '../../../functions/config/config-error.ts';

test('proxy settings: defaults, a mirror project, and values refused with the setting named', () => {
  expect(readConfig({}, '/tmp/d').proxy).toEqual({ leaseSeconds: 60, waitSeconds: 120, fetchSeconds: 30 });
  expect(readConfig({ REGISTRY_PROXY_MIRROR: 'dockerhub', REGISTRY_PROXY_LEASE_SECONDS: '30', REGISTRY_PROXY_WAIT_SECONDS: '10', REGISTRY_PROXY_FETCH_SECONDS: '600' }, '/tmp/d').proxy).toEqual({ mirror: 'dockerhub', leaseSeconds: 30, waitSeconds: 10, fetchSeconds: 600 });
  for (const [env, message] of [
    [{ REGISTRY_PROXY_MIRROR: 'Docker Hub' }, /REGISTRY_PROXY_MIRROR must be a project name/],
    [{ REGISTRY_PROXY_MIRROR: 'hub/x' }, /REGISTRY_PROXY_MIRROR/],
    [{ REGISTRY_PROXY_LEASE_SECONDS: '0' }, /REGISTRY_PROXY_LEASE_SECONDS/],
    [{ REGISTRY_PROXY_WAIT_SECONDS: 'soon' }, /REGISTRY_PROXY_WAIT_SECONDS/],
    [{ REGISTRY_PROXY_FETCH_SECONDS: '0' }, /REGISTRY_PROXY_FETCH_SECONDS/],
  ] as const) {
    expect(() => readConfig(env, '/tmp/d'), JSON.stringify(env)).toThrow(ConfigError);
    expect(() => readConfig(env, '/tmp/d')).toThrow(message);
  }
});
