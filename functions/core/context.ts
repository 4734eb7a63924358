// What every handler receives: the request, its route parameters, the authorized principal and the
// registry's dependencies (ports, authorizer, upload token signer, settings).
import type { Access, Authorizer, Principal } from './access.ts';
import type { CacheKind, SharedCache } from './shared-cache.ts';
import type { RegistryRequest, RegistryResponse } from './http.ts';
import type { BlobStore, MetadataStore } from './ports.ts';
import type { TokenSigner } from './tokens.ts';
import type { AuthDeps } from './auth/auth-deps.ts';
import type { TagRules } from './tag-immutability.ts';
import type { Quotas } from './quota.ts';
import type { AuditRecorder } from './audit.ts';
import type { ProxyDeps } from './proxy/deps.ts';

export interface RegistrySettings {
  /** Lifetime of an idle upload session (and of the token in its Location). */
  uploadTtlSeconds: number;
  /** Lifetime of the signed URL a blob GET redirects to. */
  blobUrlTtlSeconds: number;
  /** Largest page a list endpoint returns. */
  maxPageSize: number;
  /**
   * Lifetime of an upload's write lease. The request holding it renews it every third of this while it
   * works, so a long upload keeps it; a crashed holder blocks the session for at most this long.
   */
  uploadLeaseSeconds: number;
  /**
   * Record the last pull of each tag (at most one write per tag per day, core/pulls.ts). Off where the
   * metadata store is read-only (a replica region's API): retention's "not pulled" rule then counts
   * only pulls served where it is on.
   */
  recordPulls: boolean;
}

export const defaultSettings: RegistrySettings = {
  uploadTtlSeconds: 24 * 3600,
  blobUrlTtlSeconds: 15 * 60,
  maxPageSize: 1000,
  uploadLeaseSeconds: 60,
  recordPulls: true,
};

export interface RegistryDeps {
  metadata: MetadataStore;
  blobs: BlobStore;
  authorizer: Authorizer;
  /** Signs and verifies the upload tokens in Location headers (its own keys, never the blob URL keys). */
  uploadTokens: TokenSigner;
  settings: RegistrySettings;
  now: () => number;
  /** Token authentication (the token endpoint's store and signer); absent: /token is not served. */
  auth?: AuthDeps;
  /** The CDN in front, purged on deletes (core/shared-cache.ts); absent: nothing to purge. */
  sharedCache?: SharedCache;
  /** Tag immutability rules per repository (core/tag-immutability.ts); absent: every tag may move. */
  tagRules?: TagRules;
  /** Storage quotas per repository (core/quota.ts); absent: no project has one. */
  quotas?: Quotas;
  /** The audit trail (core/audit.ts); absent: nothing is recorded. */
  audit?: AuditRecorder;
  /** Proxy projects (pull-through cache, core/proxy); absent: there are none. */
  proxy?: ProxyDeps;
}

export interface Params {
  name: string;
  reference: string;
  digest: string;
  session: string;
}

export interface HandlerContext {
  req: RegistryRequest;
  params: Params;
  principal: Principal;
  deps: RegistryDeps;
}

export interface Operation {
  /** The access this operation needs, from its route parameters. */
  access(params: Params): Access[];
  handle(ctx: HandlerContext): Promise<RegistryResponse>;
  /** Served without asking the authorizer (the token endpoint, which authenticates by itself). */
  public?: boolean;
  /** What a shared cache may keep of its answers to anonymous public reads (core/shared-cache.ts); undefined: nothing. */
  cache?: (params: Params) => CacheKind;
}
