// The part of the identity port that holds machine credentials beyond robots: OIDC trust rules
// (keyless CI) and users' personal access tokens. Kept in the same store as users and projects
// (IdentityStore extends this), on both backends.
import type { Action } from '../access.ts';

/** A project's trust rule for OIDC ID tokens (trust-rules.ts decides what it accepts). */
export interface TrustRule {
  /** 12 hex characters, unique in the project. */
  id: string;
  project: string;
  issuer: string;
  /** `owner/name` as given, for people: the ids below decide. */
  repository: string;
  repositoryOwnerId: string;
  repositoryId: string;
  /** Patterns (`*` any run of characters) the claims must match when set. */
  ref?: string;
  environment?: string;
  jobWorkflowRef?: string;
  actions: Action[];
  /** Repository patterns inside the project; undefined: all of the project's. */
  repositories?: string[];
  /** The longest a refresh token made by this rule lives (from the exchange; never renewed). */
  maxSeconds: number;
  created: number;
}

/** A user's personal access token (access-tokens.ts). */
export interface AccessToken {
  user: string;
  name: string;
  secretHash: string;
  /** Epoch ms; null: never. */
  expiresAt: number | null;
  revoked: boolean;
  created: number;
}

export interface CredentialStore {
  /** Creates a rule (its id is new; AlreadyExistsError if taken). */
  putTrustRule(rule: TrustRule): Promise<void>;
  getTrustRule(project: string, id: string): Promise<TrustRule | undefined>;
  /** Deletes a rule; whether it existed. */
  deleteTrustRule(project: string, id: string): Promise<boolean>;
  /** A project's rules, by id. */
  listTrustRules(project: string): Promise<TrustRule[]>;
  /** Every rule, of any project, that names this issuer's repository id: the rules an ID token may match. */
  trustRulesFor(issuer: string, repositoryId: string): Promise<TrustRule[]>;

  /** `create`: AlreadyExistsError when the user has a token of that name; else replaces it. */
  putAccessToken(token: AccessToken, opts: { create: boolean }): Promise<void>;
  getAccessToken(user: string, name: string): Promise<AccessToken | undefined>;
  /** A user's tokens, by name. */
  listAccessTokens(user: string): Promise<AccessToken[]>;
}
