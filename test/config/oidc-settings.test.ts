// Keyless CI settings as `npm start` and the AWS runtime read them.
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/apps/server/config.ts';
import { readAwsConfig } from '../../functions/aws/config.ts';
import { ConfigError } from '../../functions/config/config-error.ts';
import { oidcSettings } from '../../functions/config/oidc-settings.ts';

describe('OIDC settings', () => {
  it('the audience defaults to the token service name; REGISTRY_OIDC_AUDIENCE overrides it', () => {
    expect(readConfig({ REGISTRY_AUTH: 'on', REGISTRY_URL: 'https://registry.example.com' }, '/tmp/d').auth.oidc).toEqual({ audience: 'registry.example.com' });
    expect(readConfig({ REGISTRY_AUTH: 'on', REGISTRY_OIDC_AUDIENCE: 'ci-audience' }, '/tmp/d').auth.oidc).toEqual({ audience: 'ci-audience' });
    const aws = { TABLE_NAME: 't', BUCKET_NAME: 'b', KEYS_SECRET_ARN: 'arn:k', AWS_REGION: 'eu-west-1', TOKEN_KEYS_SECRET_ARN: 'arn:t', REGISTRY_URL: 'https://reg.example.com' };
    expect(readAwsConfig(aws).auth?.oidc).toEqual({ audience: 'reg.example.com' });
    expect(readAwsConfig({ ...aws, REGISTRY_AUTH_SERVICE: 'svc' }).auth?.oidc).toEqual({ audience: 'svc' });
    expect(readAwsConfig({ ...aws, REGISTRY_OIDC_AUDIENCE: 'aud', REGISTRY_OIDC_GITHUB_URL: 'http://127.0.0.1:9' }).auth?.oidc).toEqual({ audience: 'aud', githubUrl: 'http://127.0.0.1:9' });
  });

  it('a discovery URL that is not http(s) is refused at start-up', () => {
    expect(() => oidcSettings({ REGISTRY_OIDC_GITHUB_URL: 'file:///etc/passwd' }, 's')).toThrow(ConfigError);
  });
});
