// Helpers for the manifest cases: JSON encoding with a raw-token splice, editing a manifest object by
// path, and PUTs that must be rejected (and leave no tag) or may go either way.
import type { RequestSpec } from '../lib.ts';
import { OCI_MANIFEST } from '../oci.ts';
import { MF } from './config.ts';
import { ANY, E, type Expect } from './contract.ts';
import { acceptedBadTags } from './fixtures.ts';
import type { Kit } from './kit.ts';
import type { Harness } from './runner.ts';

/** A string value that `encode` replaces by raw JSON text (numbers or escapes JSON.stringify cannot make). */
export const RAW = '__raw_json_token__';
export const encode = (value: unknown, raw?: string): Buffer => {
  const s = JSON.stringify(value);
  return Buffer.from(raw === undefined ? s : s.replace(`"${RAW}"`, raw));
};
/** As a `setPath` value: removes the field. */
export const DELETE = Symbol('delete');
export const setPath = (root: unknown, path: (string | number)[], value: unknown): void => {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) delete node[last];
  else node[last] = value;
};
export const INVALID = E(400, 'MANIFEST_INVALID');
export const INVALID_OR_DIGEST = E(400, ['MANIFEST_INVALID', 'DIGEST_INVALID']);

export interface ManifestPuts {
  /** PUTs a manifest body expected to be rejected, then checks the tag did not appear. */
  putRejected(h: Harness, body: RequestSpec['body'], expect: Expect, headers?: Record<string, string>, ref?: string): Promise<void>;
  putLoose(h: Harness, body: RequestSpec['body'], headers?: Record<string, string>, expect?: Expect): Promise<void>;
  /** The fixture manifest's JSON text. */
  validText: string;
}

export function manifestPuts(k: Kit): ManifestPuts {
  const { badTag, looseTag, expectTagAbsent } = k;
  return {
    async putRejected(h, body, expect, headers = { 'content-type': OCI_MANIFEST }, ref) {
      const tag = ref ?? badTag();
      const res = await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${tag}`, headers, body }, expect);
      if (res && res.status < 300) acceptedBadTags.add(tag);
      if (res && res.status >= 400 && !tag.includes(':')) await expectTagAbsent(h, MF, tag, 'rejected manifest PUT');
      if (res && res.status >= 400 && tag.includes(':')) {
        const get = await h.req({ method: 'GET', path: `/v2/${MF}/manifests/${tag}` }, E(404, 'MANIFEST_UNKNOWN'));
        if (get) h.check(get.status === 404, 'rejected manifest PUT by digest left it visible', `GET ${tag} -> ${get.status}`);
      }
    },
    async putLoose(h, body, headers = { 'content-type': OCI_MANIFEST }, expect = ANY) {
      await h.req({ method: 'PUT', path: `/v2/${MF}/manifests/${looseTag()}`, headers, body }, expect);
    },
    validText: k.c.manifest.bytes.toString(),
  };
}
