// ListObjects on s3rver as S3 answers it, in time that does not grow with every page. s3rver 3.7
// walks the bucket's directory tree from the start for each page and stat()s every entry it passes
// (two files per object): 28 s per page at 100,000 objects here, so listing a whole bucket grows with
// the square of its size (the GC's orphan sweep lists it; bench/gc.ts). And it yields keys in
// directory order, which is not S3's: `a/b` comes before `a` and `a.b`, so paging by the last key
// seen skips some. S3 answers a page in one request whatever the bucket's size, keys in UTF-8 byte
// order. This store method walks the directories in key order (each entry sorted by the key prefix
// it stands for: a file by its key, a directory by its path and `/`), reads entry types from the
// directory itself (readdir with file types, no stat per entry) and skips whole directories before
// the start. Prefix, start-after, delimiter, max-keys and truncation as s3rver reads them (a common
// prefix does not count towards max-keys), and every common prefix reported
// (test/dev/start-aws/s3-listing.test.ts holds them against a model of S3's order). Linux paths
// only (s3rver encodes keys on Windows; the stand-in runs here).
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { posix } from 'node:path';

interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

interface ListedStore {
  rootDirectory: string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  listObjects(bucket: string, options: ListOptions): Promise<unknown>;
}

type S3ObjectClass = new (bucket: string, key: string, content: null, metadata: Record<string, string>) => unknown;

/** s3rver's file name of an object's bytes: `<last key segment>._S3rver_object`. */
const OBJECT_SUFFIX = '._S3rver_object';

interface Entry {
  /** The key (a file) or the key prefix (a directory, ending in `/`) the entry stands for. */
  form: string;
  bytes: Buffer;
  path: string;
  dir: boolean;
}

/**
 * The object keys under `dir` (whose keys start with `base`) in UTF-8 byte order, skipping every
 * directory whose keys all sort at or before `startAfter` or that `enter` refuses.
 */
function* keysUnder(dir: string, base: string, startAfter: string, enter: (prefix: string) => boolean): Generator<string> {
  const entries: Entry[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const isDir = e.isDirectory();
    if (!isDir && !e.name.endsWith(OBJECT_SUFFIX)) continue;
    const form = isDir ? `${base}${e.name}/` : `${base}${e.name.slice(0, -OBJECT_SUFFIX.length)}`;
    entries.push({ form, bytes: Buffer.from(form), path: posix.join(dir, e.name), dir: isDir });
  }
  entries.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  for (const e of entries) {
    if (!e.dir) yield e.form;
    // A directory's keys all start with its form: wholly before the start unless the start is inside it.
    else if ((e.form > startAfter || startAfter.startsWith(e.form)) && enter(e.form)) yield* keysUnder(e.path, e.form, startAfter, enter);
  }
}

/** Gives `server`'s store the listing above. */
export function listWithoutStats(server: unknown): void {
  const store = (server as { store: ListedStore }).store;
  const S3Object = createRequire(import.meta.url)('s3rver/lib/models/object') as S3ObjectClass;
  store.listObjects = async (bucket, { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity }) => {
    // Directories outside the prefix hold nothing to list. (s3rver also skips those below a common
    // prefix, and so never reports a common prefix that holds directories only; S3 does.)
    const enter = (dirPrefix: string): boolean => dirPrefix.startsWith(prefix) || prefix.startsWith(dirPrefix);
    const commonPrefixes = new Set<string>();
    const keys: string[] = [];
    let isTruncated = false;
    for (const key of keysUnder(posix.join(store.rootDirectory, bucket), '', startAfter, enter)) {
      if (key <= startAfter || !key.startsWith(prefix)) continue;
      const cut = delimiter ? key.slice(prefix.length).indexOf(delimiter) : -1;
      if (cut !== -1) {
        commonPrefixes.add(key.slice(0, prefix.length + cut + 1));
        continue;
      }
      if (keys.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      keys.push(key);
    }
    const metadata = await Promise.all(keys.map((key) => store.getMetadata(bucket, key).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)))));
    return {
      objects: keys.flatMap((key, i) => (metadata[i] === undefined ? [] : [new S3Object(bucket, key, null, metadata[i])])),
      commonPrefixes: [...commonPrefixes].sort(),
      isTruncated,
    };
  };
}
