// Repository name, tag and digest grammar (OCI distribution spec, "Pulling manifests").
import { RegistryError } from './errors.ts';

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
export const MAX_NAME_LENGTH = 255;

/** Digest algorithms this registry computes, with the exact shape of their encoded part. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function isDigestLike(ref: string): boolean {
  return ref.includes(':');
}

export function isValidDigest(digest: string): boolean {
  if (digest.length > 200 || !DIGEST_RE.test(digest)) return false;
  const i = digest.indexOf(':');
  const shape = DIGEST_ALGORITHMS[digest.slice(0, i)];
  return shape !== undefined && shape.test(digest.slice(i + 1));
}

export function digestAlgorithm(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

export function requireName(name: string): string {
  if (!isValidName(name)) throw new RegistryError('NAME_INVALID', { name: name.slice(0, 300) });
  return name;
}

export function requireDigest(digest: string | undefined | null): string {
  if (digest === undefined || digest === null || !isValidDigest(digest)) {
    throw new RegistryError('DIGEST_INVALID', { digest: digest?.slice(0, 300) ?? null }, { message: 'invalid digest' });
  }
  return digest;
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/** A manifest reference: a digest when it contains ':', else a tag. */
export function parseReference(ref: string): Reference {
  if (isDigestLike(ref)) return { kind: 'digest', digest: requireDigest(ref) };
  if (!isValidTag(ref)) throw new RegistryError('TAG_INVALID', { tag: ref.slice(0, 300) }, { message: 'invalid tag' });
  return { kind: 'tag', tag: ref };
}
