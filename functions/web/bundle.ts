// The web interface as files: esbuild bundles functions/web/app/ (Preact + htm, TypeScript) into one
// script and one stylesheet named by their content hash, and index.html names them. `npm start`
// builds it in memory at the first request for it (functions/apps/server/ui-route.ts); `npm run
// build` writes the same files to dist/web/ (infra/build.ts), which is also what `npm start` serves
// when esbuild is not installed (an install without dev dependencies).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const UI_SOURCE_DIR = join(root, 'functions', 'web', 'app');
export const UI_DIST_DIR = join(root, 'dist', 'web');
/** Where the assets are served: a prefix no registry route uses (/v2/, /api/v1/, /token). */
export const UI_ASSET_PREFIX = '/ui/';

export interface UiFile {
  /** The path it is served at: `/` (index.html) or `/ui/<name>`. */
  path: string;
  body: Buffer;
  contentType: string;
  /** Named by its content hash: cacheable for ever. */
  immutable: boolean;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};
const typeOf = (name: string): string => TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';

/** index.html with the hashed script and stylesheet names put in. */
async function indexHtml(script: string, style: string): Promise<UiFile> {
  const template = await readFile(join(UI_SOURCE_DIR, 'index.html'), 'utf8');
  const body = template.replace('%SCRIPT%', `${UI_ASSET_PREFIX}${script}`).replace('%STYLE%', `${UI_ASSET_PREFIX}${style}`);
  return { path: '/', body: Buffer.from(body), contentType: typeOf('.html'), immutable: false };
}

/** Builds the interface from its sources with esbuild (about 0.1 s); rejects when esbuild is not installed. */
export async function buildUi(): Promise<UiFile[]> {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(UI_SOURCE_DIR, 'main.ts'), join(UI_SOURCE_DIR, 'app.css')],
    outdir: 'ui',
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox121', 'safari17'],
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files: UiFile[] = result.outputFiles.map((f) => {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    return { path: `${UI_ASSET_PREFIX}${name}`, body: Buffer.from(f.contents), contentType: typeOf(name), immutable: true };
  });
  const script = files.find((f) => f.path.endsWith('.js'))!.path.slice(UI_ASSET_PREFIX.length);
  const style = files.find((f) => f.path.endsWith('.css'))!.path.slice(UI_ASSET_PREFIX.length);
  const icon = await readFile(join(UI_SOURCE_DIR, 'icon.svg'));
  return [await indexHtml(script, style), ...files, { path: `${UI_ASSET_PREFIX}icon.svg`, body: icon, contentType: typeOf('.svg'), immutable: false }];
}

/** What `npm run build` wrote to dist/web/ (index.html and ui/*), or undefined when it is not there. */
export async function readBuiltUi(dir = UI_DIST_DIR): Promise<UiFile[] | undefined> {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files: UiFile[] = [{ path: '/', body: await readFile(join(dir, 'index.html')), contentType: typeOf('.html'), immutable: false }];
  for (const name of await readdir(join(dir, 'ui'))) {
    files.push({ path: `${UI_ASSET_PREFIX}${name}`, body: await readFile(join(dir, 'ui', name)), contentType: typeOf(name), immutable: /-[A-Z0-9]{8}\.(js|css)$/.test(name) });
  }
  return files;
}

/** Writes the built interface to `dir` (index.html, ui/*), as `npm run build` does to dist/web/. */
export async function writeUi(files: UiFile[], dir = UI_DIST_DIR): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'ui'), { recursive: true });
  for (const f of files) await writeFile(join(dir, f.path === '/' ? 'index.html' : f.path.slice(1)), f.body);
}

/** The interface from its sources, else as `npm run build` left it in dist/web/; undefined if neither is possible. */
export async function loadUi(build: () => Promise<UiFile[]> = buildUi, dir = UI_DIST_DIR): Promise<UiFile[] | undefined> {
  try {
    return await build();
  } catch (e) {
    const built = await readBuiltUi(dir);
    if (built) return built;
    throw e;
  }
}
