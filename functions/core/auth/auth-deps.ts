// What the registry needs for token authentication: the identity store and the token signer.
import type { IdentityStore } from './identity-store.ts';
import type { TokenService } from './jwt.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { OidcVerifier } from './oidc.ts';

export interface AuthDeps {
  store: IdentityStore;
  tokens: TokenService;
  throttle: LoginThrottle;
  /** Keyless CI: verifies OIDC ID tokens of the trusted issuers; undefined: off. */
  oidc?: OidcVerifier;
}
