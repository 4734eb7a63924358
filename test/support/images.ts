// Offline test images: writes OCI image layouts (oci-layout, index.json, blobs/sha256/...) whose
// layers are real tar archives of random bytes, and converts them with skopeo to the archives that
// `ctr images import` and `docker load` take. Shared by e2e tests and the benchmark.
//
// Layer data comes from AES-256-CTR over zeros with a random key (a fast, seedable stream cipher
// used as a PRNG); it is streamed to disk in 1 MiB chunks while being hashed, so no layer is ever
// held in memory.
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';

export interface LayerInfo {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

export interface TestImage {
  layoutDir: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layers: LayerInfo[];
  platform: { os: string; architecture: string };
}

export interface TestIndex {
  layoutDir: string;
  tag: string;
  indexDigest: string;
  images: TestImage[];
}

import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from './oci.ts';

export { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST };

const CHUNK = 1024 * 1024;
const FIXED_TIME = '2024-01-01T00:00:00Z';
const FIXED_MTIME = Math.floor(Date.parse(FIXED_TIME) / 1000);


interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** Writes a small blob (manifest, config, index) and returns its descriptor. */
async function writeJsonBlob(layoutDir: string, mediaType: string, value: unknown): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(blobPath(layoutDir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** A 512-byte ustar header for one regular file. */
function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number): void => {
    h.write(value, offset, length, 'ascii');
  };
  const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  if (size >= 8 ** 11) throw new Error(`tar entry too large: ${size}`);
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8); // mode
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(size, 12), 124, 12); // size
  put(octal(FIXED_MTIME, 12), 136, 12); // mtime
  put('        ', 148, 8); // checksum placeholder (spaces while summing)
  put('0', 156, 1); // typeflag: regular file
  put('ustar\0', 257, 6); // magic
  put('00', 263, 2); // version
  put('root', 265, 32); // uname
  put('root', 297, 32); // gname
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** The bytes of a tar archive holding one file `name` of `size` random bytes, in chunks. */
async function* tarOfRandomFile(name: string, size: number, seed: Buffer): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  const cipher = createCipheriv('aes-256-ctr', seed.subarray(0, 32), seed.subarray(32, 48));
  const zeros = Buffer.alloc(CHUNK);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    yield cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
    left -= n;
  }
  const pad = (512 - (size % 512)) % 512;
  // Padding to a 512-byte block, then the two zero blocks that end the archive.
  yield Buffer.alloc(pad + 1024);
}

/** Pass-through stage that hashes and counts what flows through it. */
function tap(hash: Hash, count: { n: number }) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      count.n += chunk.length;
      yield chunk;
    }
  };
}

async function writeLayer(layoutDir: string, name: string, size: number, gzip: boolean): Promise<LayerInfo> {
  const tmp = join(layoutDir, 'blobs', 'sha256', `.tmp-${randomBytes(8).toString('hex')}`);
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const tarCount = { n: 0 };
  const blobCount = { n: 0 };
  const source = tarOfRandomFile(name, size, randomBytes(48));
  try {
    if (gzip) {
      await pipeline(
        source,
        tap(diffHash, tarCount),
        createGzip({ level: 1, chunkSize: 256 * 1024, strategy: zlibConstants.Z_DEFAULT_STRATEGY }),
        tap(blobHash, blobCount),
        createWriteStream(tmp),
      );
    } else {
      await pipeline(source, tap(diffHash, tarCount), tap(blobHash, blobCount), createWriteStream(tmp));
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const digest = `sha256:${blobHash.digest('hex')}`;
  await rename(tmp, blobPath(layoutDir, digest));
  return {
    digest,
    diffId: `sha256:${diffHash.digest('hex')}`,
    size: blobCount.n,
    mediaType: gzip ? OCI_LAYER_GZIP : OCI_LAYER,
  };
}

async function initLayout(layoutDir: string): Promise<void> {
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** Adds (or replaces, by ref name) entries in the layout's index.json. */
async function tagInLayout(layoutDir: string, entries: Descriptor[]): Promise<void> {
  const file = join(layoutDir, 'index.json');
  let index: LayoutIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
  try {
    index = JSON.parse(await readFile(file, 'utf8')) as LayoutIndex;
  } catch {
    // no index yet
  }
  const refOf = (d: Descriptor): string | undefined => d.annotations?.['org.opencontainers.image.ref.name'];
  const newRefs = new Set(entries.map(refOf));
  index.manifests = [...index.manifests.filter((d) => !newRefs.has(refOf(d))), ...entries];
  await writeFile(file, JSON.stringify(index));
}

/** Writes the layers, config and manifest of one image (not tagged). */
async function writeImage(
  layoutDir: string,
  layerSizes: number[],
  gzip: boolean,
  platform: { os: string; architecture: string },
  tag: string,
): Promise<{ image: TestImage; manifest: Descriptor }> {
  const layers: LayerInfo[] = [];
  for (const [i, size] of layerSizes.entries()) {
    layers.push(await writeLayer(layoutDir, `layer${i}/data-${randomBytes(4).toString('hex')}.bin`, size, gzip));
  }
  const config = {
    created: FIXED_TIME,
    architecture: platform.architecture,
    os: platform.os,
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: FIXED_TIME, created_by: `test layer ${i}` })),
  };
  const configDesc = await writeJsonBlob(layoutDir, OCI_CONFIG, config);
  const manifest = await writeJsonBlob(layoutDir, OCI_MANIFEST, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configDesc,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  return {
    image: { layoutDir, tag, manifestDigest: manifest.digest, configDigest: configDesc.digest, layers, platform },
    manifest,
  };
}

function refAnnotation(tag: string): Record<string, string> {
  return { 'org.opencontainers.image.ref.name': tag };
}

/**
 * Writes an OCI image layout at layoutDir with one image tagged `tag` (default 'v1'). Each layer is
 * a tar archive holding one file of layerSizes[i] random bytes; uncompressed unless opts.gzip.
 * If layoutDir already holds a layout, the image is added to it (replacing an entry of the same tag).
 */
export async function makeOciImage(
  layoutDir: string,
  opts: { layerSizes: number[]; tag?: string; gzip?: boolean; platform?: { os: string; architecture: string } },
): Promise<TestImage> {
  const tag = opts.tag ?? 'v1';
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  await initLayout(layoutDir);
  const { image, manifest } = await writeImage(layoutDir, opts.layerSizes, opts.gzip ?? false, platform, tag);
  await tagInLayout(layoutDir, [{ ...manifest, annotations: refAnnotation(tag) }]);
  return image;
}

/**
 * Writes one layout holding an OCI image index tagged `tag` (default 'v1') with one image per
 * platform, each with its own (uncompressed) layers. Each child image is also tagged in the layout
 * as `<tag>-<os>-<architecture>` (that is its TestImage.tag), so toOciArchive/toDockerArchive and
 * `skopeo copy oci:DIR:<tag>-linux-amd64` can address it alone; `skopeo copy --all oci:DIR:<tag>`
 * copies the whole index.
 */
export async function makeOciIndex(
  layoutDir: string,
  opts: { platforms: { os: string; architecture: string }[]; layerSizes: number[]; tag?: string },
): Promise<TestIndex> {
  const tag = opts.tag ?? 'v1';
  await initLayout(layoutDir);
  const images: TestImage[] = [];
  const children: Descriptor[] = [];
  for (const platform of opts.platforms) {
    const childTag = `${tag}-${platform.os}-${platform.architecture}`;
    const { image, manifest } = await writeImage(layoutDir, opts.layerSizes, false, platform, childTag);
    images.push(image);
    children.push({ ...manifest, platform: { architecture: platform.architecture, os: platform.os } });
  }
  const index = await writeJsonBlob(layoutDir, OCI_INDEX, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children });
  await tagInLayout(layoutDir, [
    { ...index, annotations: refAnnotation(tag) },
    ...children.map((c, i) => ({ mediaType: c.mediaType, digest: c.digest, size: c.size, annotations: refAnnotation(images[i]!.tag) })),
  ]);
  return { layoutDir, tag, indexDigest: index.digest, images };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

async function skopeoTo(transport: string, img: TestImage, file: string, ref: string, extra: string[]): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  await rm(file, { force: true }); // start from an empty archive
  await run('skopeo', ['copy', '--quiet', ...extra, `oci:${img.layoutDir}:${img.tag}`, `${transport}:${file}:${ref}`]);
  return file;
}

/**
 * `skopeo copy oci:DIR:TAG oci-archive:FILE:REF` (for `ctr images import`). Returns FILE.
 * Layers keep their bytes and digests (skopeo would otherwise gzip uncompressed layers), so the
 * archive holds exactly img.manifestDigest, img.configDigest and img.layers.
 * For `ctr images import --base-name HOST/REPO FILE`, pass ref either as the full reference
 * `HOST/REPO:TAG` or as just `TAG`; ctr (1.6) skips images whose name does not match --base-name.
 */
export function toOciArchive(img: TestImage, file: string, ref: string): Promise<string> {
  return skopeoTo('oci-archive', img, file, ref, ['--dest-oci-accept-uncompressed-layers']);
}

/**
 * `skopeo copy oci:DIR:TAG docker-archive:FILE:REF` (for `docker load`). Returns FILE.
 * A docker archive stores layers uncompressed and its manifest is Docker's, so only the config
 * digest and the diff IDs stay the same as in img.
 */
export function toDockerArchive(img: TestImage, file: string, ref: string): Promise<string> {
  return skopeoTo('docker-archive', img, file, ref, []);
}
