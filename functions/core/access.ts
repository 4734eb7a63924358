// What each route needs, and the single place that decides whether a request may have it.
import type { RegistryRequest } from './http.ts';

export type Action = 'pull' | 'push' | 'delete';

export type Access = { type: 'repository'; name: string; actions: Action[] } | { type: 'registry'; name: 'catalog' | 'management'; actions: ['*'] };

export interface Principal {
  /** Subject of the credentials, or 'anonymous'. */
  subject: string;
  /**
   * Anonymous, and let in only because what it reads is public: its successful reads may be kept by a
   * shared cache (core/shared-cache.ts). Never set for a request that carried credentials.
   */
  publicRead?: boolean;
}

export type Decision =
  | { allowed: true; principal: Principal }
  | { allowed: false; status: 401 | 403; challenge?: string; detail?: unknown };

export interface Authorizer {
  /** Decides whether the request may have every access in `required`. */
  authorize(req: RegistryRequest, required: Access[]): Promise<Decision>;
  /** Whether an already authorized principal also holds `access` (e.g. pull on a mount source). */
  can(principal: Principal, access: Access): Promise<boolean>;
}

/** Allows everything: the default until authentication is configured. */
export const allowAll: Authorizer = {
  async authorize() {
    return { allowed: true, principal: { subject: 'anonymous' } };
  },
  async can() {
    return true;
  },
};

export const repoAccess = (name: string, ...actions: Action[]): Access => ({ type: 'repository', name, actions });

/**
 * Refuses everything with 401: a deployed registry is closed until authentication is configured, so it
 * can never be an open push target by accident.
 */
export const closedRegistry: Authorizer = {
  async authorize() {
    return {
      allowed: false,
      status: 401,
      detail: { reason: 'this registry is closed: its deployment sets access "closed" (the default) and no authentication is configured yet' },
    };
  },
  async can() {
    return false;
  },
};
