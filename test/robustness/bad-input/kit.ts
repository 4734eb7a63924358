// What the case modules share: `add` to register a variant, the fixtures, and helpers that start an
// upload session or check that a rejected request left no state behind.
import { headerValue, locationPath } from '../lib.ts';
import { REPO, SEED } from './config.ts';
import { E } from './contract.ts';
import type { Ctx } from './fixtures.ts';
import type { Harness, Variant } from './runner.ts';

export type Add = (name: string, run: Variant['run']) => void;

export interface Kit {
  c: Ctx;
  add: Add;
  /** Starts an upload session in `repo`; returns its Location path (or undefined after a recorded failure). */
  startSession(h: Harness, repo?: string): Promise<string | undefined>;
  /** Asserts the session's state through GET (204 + Range). */
  expectRange(h: Harness, loc: string, range: string, why: string): Promise<void>;
  expectBlobAbsent(h: Harness, repo: string, digest: string, why: string): Promise<void>;
  expectTagAbsent(h: Harness, repo: string, tag: string, why: string): Promise<void>;
  /** A fresh tag for a manifest PUT that must be rejected (`bad-*`: checked at the end). */
  badTag(): string;
  /** A fresh tag for a manifest PUT that may be accepted. */
  looseTag(): string;
}

export function caseKit(c: Ctx, add: Add): Kit {
  let tagCounter = 0;
  return {
    c,
    add,
    async startSession(h, repo = REPO) {
      const res = await h.req({ method: 'POST', path: `/v2/${repo}/blobs/uploads/` }, E(202));
      if (!res || res.status !== 202) return undefined;
      return locationPath(c.base, headerValue(res, 'location'));
    },
    async expectRange(h, loc, range, why) {
      const res = await h.req({ method: 'GET', path: loc }, E(204));
      if (res && res.status === 204) {
        h.check(headerValue(res, 'range') === range, 'rejected request changed upload state', `${why}: GET ${loc} Range expected ${range}, got ${headerValue(res, 'range')}`);
      }
    },
    async expectBlobAbsent(h, repo, digest, why) {
      const res = await h.req({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` }, E(404));
      if (res) h.check(res.status === 404, 'rejected request left a blob visible', `${why}: HEAD ${digest} in ${repo} -> ${res.status}`);
    },
    async expectTagAbsent(h, repo, tag, why) {
      const res = await h.req({ method: 'GET', path: `/v2/${repo}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
      if (res) h.check(res.status === 404, 'rejected manifest PUT left a tag visible', `${why}: GET tag ${tag} in ${repo} -> ${res.status}`);
    },
    badTag: () => `bad-${SEED % 10000}-${++tagCounter}`,
    looseTag: () => `loose-${++tagCounter}`,
  };
}
