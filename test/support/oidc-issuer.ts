// A local OIDC issuer standing in for GitHub Actions' (no internet here): serves the discovery
// document and a JWKS on loopback and signs ID tokens with jose (RS256, as GitHub does), with the
// claims GitHub documents. `iss` is GitHub's real issuer by default, so the registry's default
// trust rule issuer is what is tested; only the discovery URL is pointed here.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import { GITHUB_ISSUER } from '../../functions/core/auth/oidc.ts';

export interface TestIssuer {
  /** Base URL the discovery document is under (REGISTRY_OIDC_GITHUB_URL). */
  url: string;
  /** Discovery and JWKS requests served so far. */
  fetches: () => { discovery: number; jwks: number };
  /** An ID token: GitHub-like claims for `claims.repository` etc., overridden by `claims`. */
  idToken(claims?: JWTPayload, opts?: { kid?: string; key?: KeyObject; seconds?: number; issuedAgo?: number }): Promise<string>;
  close(): Promise<void>;
}

/** The claims of a push to main of octo-org/app (owner id 1001, repository id 2002). */
export const GITHUB_CLAIMS = {
  repository: 'octo-org/app', repository_owner: 'octo-org', repository_owner_id: '1001', repository_id: '2002',
  ref: 'refs/heads/main', ref_type: 'branch', event_name: 'push', environment: 'production',
  job_workflow_ref: 'octo-org/app/.github/workflows/release.yml@refs/heads/main', workflow: 'release', actor: 'octocat', actor_id: '9',
  repository_visibility: 'private', runner_environment: 'github-hosted',
} as const;

export async function startIssuer(opts: { issuer?: string; audience: string }): Promise<TestIssuer> {
  const issuer = opts.issuer ?? GITHUB_ISSUER;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const counts = { discovery: 0, jwks: 0 };
  let base = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      counts.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${base}/.well-known/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/.well-known/jwks') {
      counts.jwks++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    fetches: () => ({ ...counts }),
    async idToken(claims = {}, o = {}) {
      const now = Math.floor(Date.now() / 1000) - (o.issuedAgo ?? 0);
      const all: JWTPayload = { ...GITHUB_CLAIMS, sub: `repo:${GITHUB_CLAIMS.repository}:ref:${GITHUB_CLAIMS.ref}`, ...claims };
      return new SignJWT(all)
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1', typ: 'JWT' })
        .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
        .setAudience(claims.aud ?? opts.audience)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + (o.seconds ?? 300))
        .setJti(`${now}-${Math.random()}`)
        .sign(o.key ?? privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
