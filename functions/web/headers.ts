// What every answer of the web interface carries, wherever it is served from: `npm start`
// (functions/apps/server/ui-route.ts), the CloudFront response headers policy and the objects'
// Cache-Control in the bucket (infra/constructs/web-ui.ts), and start:aws's emulation of both
// (dev/front-door/ui-origin.ts). One place, so the three cannot drift apart.

/**
 * No inline script or style, nothing from another origin: scripts, styles, the icon and the API
 * calls are the registry's own; the page may not be framed.
 */
export const UI_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The security headers of every answer (lower-case names). */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Cache-Control of a file named by its content hash (kept a year), and of the others (checked each time). */
export const UI_CACHE_CONTROL = { immutable: 'public, max-age=31536000, immutable', revalidate: 'no-cache' } as const;


/** One kind of file of dist/web/ as stored in the bucket: its objects' metadata. */
export interface UiObjectGroup {
  /** What the files are (names the deployment of each kind). */
  readonly name: string;
  /** An `aws s3 sync --include` glob, relative to dist/web/ (`*` spans slashes). */
  readonly glob: string;
  readonly contentType: string;
  readonly cacheControl: string;
  /**
   * Whether a deployment deletes the bucket's files of this kind that the build no longer has. Not
   * the hashed ones: a page loaded just before a deployment still asks for the files it names.
   */
  readonly prune: boolean;
}

/** Every file `npm run build` writes to dist/web/, by kind (what functions/web/bundle.ts builds). */
export const UI_OBJECT_GROUPS: readonly UiObjectGroup[] = [
  { name: 'Scripts', glob: 'ui/*.js', contentType: 'text/javascript; charset=utf-8', cacheControl: UI_CACHE_CONTROL.immutable, prune: false },
  { name: 'Styles', glob: 'ui/*.css', contentType: 'text/css; charset=utf-8', cacheControl: UI_CACHE_CONTROL.immutable, prune: false },
  { name: 'Images', glob: 'ui/*.svg', contentType: 'image/svg+xml', cacheControl: UI_CACHE_CONTROL.revalidate, prune: true },
  { name: 'Page', glob: 'index.html', contentType: 'text/html; charset=utf-8', cacheControl: UI_CACHE_CONTROL.revalidate, prune: true },
];

/** The group of a file of dist/web/ (`index.html`, `ui/<name>`), by the globs' rules; undefined: none. */
export function uiObjectGroup(key: string): UiObjectGroup | undefined {
  return UI_OBJECT_GROUPS.find((g) => new RegExp(`^${g.glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(key));
}
