// Keyless CI settings, the same for `npm start` and the AWS runtime: the audience ID tokens must be
// for (REGISTRY_OIDC_AUDIENCE, default the token service name) and, for tests only, where GitHub's
// discovery document is fetched from (REGISTRY_OIDC_GITHUB_URL, default GitHub's issuer itself).
import { ConfigError } from './config-error.ts';
import { optionalSetting, type Env } from './env-settings.ts';

export interface OidcSettings {
  audience: string;
  githubUrl?: string;
}

export function oidcSettings(env: Env, service: string): OidcSettings {
  const githubUrl = optionalSetting(env, 'REGISTRY_OIDC_GITHUB_URL');
  if (githubUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(githubUrl)) throw new ConfigError(`REGISTRY_OIDC_GITHUB_URL ${JSON.stringify(githubUrl)} is not an http(s) URL`);
  return { audience: optionalSetting(env, 'REGISTRY_OIDC_AUDIENCE') ?? service, ...(githubUrl !== undefined ? { githubUrl } : {}) };
}
