// The pull-through cache's settings, the same variables for `npm start` and the AWS runtime: the
// project dockerd's `registry-mirrors` paths map into (REGISTRY_PROXY_MIRROR), how long a fetch lease
// lasts, how long a request waits for another's fetch, and how long one upstream request may take.
// The defaults differ: the API Lambda must answer within API Gateway's 29 s.
import { ConfigError } from './config-error.ts';
import { intSetting, optionalSetting, type Env } from './env-settings.ts';

export interface ProxySettings {
  /** The project dockerd's `registry-mirrors` paths map into; undefined: none. */
  mirror?: string;
  leaseSeconds: number;
  waitSeconds: number;
  /** One upstream request (headers and body) is given up after this long. */
  fetchSeconds: number;
}

/** A project name: one repository path component (functions/core/auth/model.ts holds projects to it). */
export const PROJECT_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/;

export function proxySettings(env: Env, defaults: { waitSeconds: number; fetchSeconds: number; maxSeconds: number }): ProxySettings {
  const mirror = optionalSetting(env, 'REGISTRY_PROXY_MIRROR');
  if (mirror !== undefined && !PROJECT_NAME.test(mirror)) throw new ConfigError(`REGISTRY_PROXY_MIRROR must be a project name, got ${JSON.stringify(mirror)}`);
  return {
    ...(mirror ? { mirror } : {}),
    leaseSeconds: intSetting(env, 'REGISTRY_PROXY_LEASE_SECONDS', 60, 1, 3600),
    waitSeconds: intSetting(env, 'REGISTRY_PROXY_WAIT_SECONDS', defaults.waitSeconds, 1, defaults.maxSeconds),
    fetchSeconds: intSetting(env, 'REGISTRY_PROXY_FETCH_SECONDS', defaults.fetchSeconds, 1, defaults.maxSeconds),
  };
}
