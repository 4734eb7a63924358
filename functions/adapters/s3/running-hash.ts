// The running digest of an upload, resumable in any process: hash-wasm hashers save their internal
// state as bytes, which travel in the upload state between requests. The digest of an upload is then
// known without reading its bytes back (multipart parts cannot be read before completion anyway).
import { createSHA256, createSHA512, type IHasher } from 'hash-wasm';

/** Saved hasher states, base64 (hash-wasm's save() format: resumable by the same hash-wasm version). */
export interface SavedHashes {
  sha256: string;
  /** Present only when the store tracks sha512 as well. */
  sha512?: string;
}

export class RunningHash {
  readonly #sha256: IHasher;
  readonly #sha512: IHasher | undefined;

  private constructor(sha256: IHasher, sha512: IHasher | undefined) {
    this.#sha256 = sha256;
    this.#sha512 = sha512;
  }

  /** Fresh hashers: sha256 always, sha512 when asked. */
  static async start(withSha512: boolean): Promise<RunningHash> {
    const sha256 = await createSHA256();
    sha256.init();
    let sha512: IHasher | undefined;
    if (withSha512) {
      sha512 = await createSHA512();
      sha512.init();
    }
    return new RunningHash(sha256, sha512);
  }

  /** Hashers resumed from a saved state. */
  static async resume(saved: SavedHashes): Promise<RunningHash> {
    const sha256 = await createSHA256();
    sha256.load(Buffer.from(saved.sha256, 'base64'));
    let sha512: IHasher | undefined;
    if (saved.sha512 !== undefined) {
      sha512 = await createSHA512();
      sha512.load(Buffer.from(saved.sha512, 'base64'));
    }
    return new RunningHash(sha256, sha512);
  }

  update(bytes: Uint8Array): void {
    this.#sha256.update(bytes);
    this.#sha512?.update(bytes);
  }

  save(): SavedHashes {
    const saved: SavedHashes = { sha256: Buffer.from(this.#sha256.save()).toString('base64') };
    if (this.#sha512) saved.sha512 = Buffer.from(this.#sha512.save()).toString('base64');
    return saved;
  }
}

/**
 * The digest of the hashed bytes in `algorithm` (`sha256:<hex>`), or undefined when that algorithm
 * was not tracked. Resumes a copy: the saved state itself is left as it is.
 */
export async function digestOf(saved: SavedHashes, algorithm: string): Promise<string | undefined> {
  let state: string | undefined;
  let hasher: IHasher;
  if (algorithm === 'sha256') {
    state = saved.sha256;
    hasher = await createSHA256();
  } else if (algorithm === 'sha512') {
    state = saved.sha512;
    if (state === undefined) return undefined;
    hasher = await createSHA512();
  } else {
    return undefined;
  }
  hasher.load(Buffer.from(state, 'base64'));
  return `${algorithm}:${hasher.digest('hex')}`;
}
