// Upstream URLs as stored, namespaces, the upstream repository of a proxied name, challenges.
import { expect, test } from 'vitest';
import { checkNamespace, checkUpstreamUrl, upstreamRepository } from '../../../functions/core/proxy/model.ts';
import { parseChallenge } from '../../../functions/core/proxy/upstream-client.ts';

test('upstream URLs: an http(s) origin without credentials, path or query; Docker Hub names its API host', () => {
  expect(checkUpstreamUrl('https://ghcr.io')).toBe('https://ghcr.io');
  expect(checkUpstreamUrl('http://127.0.0.1:5000/')).toBe('http://127.0.0.1:5000');
  expect(checkUpstreamUrl('https://docker.io')).toBe('https://registry-1.docker.io');
  expect(checkUpstreamUrl('https://index.docker.io')).toBe('https://registry-1.docker.io');
  for (const bad of ['ghcr.io', 'ftp://x.example', 'https://u:p@ghcr.io', 'https://ghcr.io/v2/', 'https://ghcr.io?x=1']) expect(() => checkUpstreamUrl(bad), bad).toThrow();
  expect(() => checkUpstreamUrl('https://u:p@ghcr.io')).toThrow(/--upstream-password-stdin/);
});

test('namespaces are repository paths', () => {
  expect(checkNamespace('library')).toBe('library');
  expect(checkNamespace('team/sub')).toBe('team/sub');
  for (const bad of ['', '/x', 'X', 'a//b', '../x']) expect(() => checkNamespace(bad), bad).toThrow();
});

test('the upstream repository: project prefix dropped, namespace prefixed, Docker Hub official images under library/', () => {
  const base = { tagTtlSeconds: 60, credentials: false };
  expect(upstreamRepository({ ...base, upstream: 'https://ghcr.io' }, 'gh/owner/img')).toBe('owner/img');
  expect(upstreamRepository({ ...base, upstream: 'https://ghcr.io', namespace: 'owner' }, 'gh/img')).toBe('owner/img');
  expect(upstreamRepository({ ...base, upstream: 'https://registry-1.docker.io' }, 'hub/alpine')).toBe('library/alpine');
  expect(upstreamRepository({ ...base, upstream: 'https://registry-1.docker.io' }, 'hub/bitnami/redis')).toBe('bitnami/redis');
});

test('WWW-Authenticate challenges', () => {
  expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
  });
  expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
});
