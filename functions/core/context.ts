// What every handler receives: the request, its route parameters, the authorized principal and the
// registry's dependencies (ports, authorizer, signer, settings).
import type { Access, Authorizer, Principal } from './access.ts';
import type { RegistryRequest, RegistryResponse } from './http.ts';
import type { BlobStore, MetadataStore } from './ports.ts';
import type { TokenSigner } from './tokens.ts';

export interface RegistrySettings {
  /** Lifetime of an idle upload session (and of the token in its Location). */
  uploadTtlSeconds: number;
  /** Lifetime of the signed URL a blob GET redirects to. */
  blobUrlTtlSeconds: number;
  /** Largest page a list endpoint returns. */
  maxPageSize: number;
}

export const defaultSettings: RegistrySettings = {
  uploadTtlSeconds: 24 * 3600,
  blobUrlTtlSeconds: 15 * 60,
  maxPageSize: 1000,
};

export interface RegistryDeps {
  metadata: MetadataStore;
  blobs: BlobStore;
  authorizer: Authorizer;
  signer: TokenSigner;
  settings: RegistrySettings;
  now: () => number;
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
}
