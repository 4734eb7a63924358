// How numbers, digests and times are shown.

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** `sha256:0123456789ab` (12 hex digits): enough to tell digests apart on screen. */
export const shortDigest = (d: string | null | undefined): string => (d ? d.replace(/^(sha256:|sha512:)?(.{12}).*$/, '$1$2') : '—');

export function when(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** `linux/arm64/v8` from an OCI platform object. */
export function platform(p: Record<string, unknown> | null | undefined): string {
  if (!p) return '—';
  return [p.os, p.architecture, p.variant].filter((x) => typeof x === 'string' && x !== '').join('/') || '—';
}

/** The `#/...` link of a view. */
export const link = {
  projects: () => '#/',
  project: (p: string) => `#/p/${encodeURIComponent(p)}`,
  members: (p: string) => `#/p/${encodeURIComponent(p)}/members`,
  robots: (p: string) => `#/p/${encodeURIComponent(p)}/robots`,
  policies: (p: string) => `#/p/${encodeURIComponent(p)}/policies`,
  audit: (p?: string) => (p === undefined ? '#/audit' : `#/p/${encodeURIComponent(p)}/audit`),
  repository: (r: string) => `#/r/${r}`,
  artifact: (r: string, ref: string) => `#/a/${r}${ref.includes(':') ? '@' : ':'}${ref}`,
  search: (q: string) => `#/search?q=${encodeURIComponent(q)}`,
};

/** The project of a repository name: its first path component. */
export const projectOf = (repository: string): string => repository.split('/')[0] ?? repository;

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6, g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4, tb: 1e12 };

/** `10 GiB`, `500MB`, `1.5G`, `1048576` as bytes (K, M, G, T and KiB… binary; KB, MB… decimal), as the CLI reads them. */
export function parseSize(text: string): number {
  const m = /^\s*(\d{1,16}(?:\.\d{1,6})?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`“${text}” is not a size: give bytes, or a number with K, M, G, T (binary) or KB, MB, GB, TB (decimal), such as 10 GiB`);
  return Math.floor(Number(m[1]) * unit);
}
