// Where TokenService takes its keys from. Fixed keys (`npm start`: the data dir's secret, the tests),
// or keys re-read from wherever the deployment keeps their seeds (AWS: a Secrets Manager secret that
// a rotation Lambda rotates), so a running process picks up a rotated key without a redeploy:
// - every `refreshMs` (5 minutes), lazily: the first request after that starts a re-read in the
//   background and is served with the keys in hand (no I/O on a request's path);
// - when a token names a key id the process does not hold (signed with a key another process has
//   already read), at most once per `unknownKidMs` (30 s) whatever the tokens say, so forged key ids
//   cannot make the process read the secret more often than that.
// A failed re-read keeps the keys read before (reported through onError) and is tried again after
// `unknownKidMs`.
import type { KeyObject } from 'node:crypto';

export interface SigningKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface TokenKeys {
  /** The key new tokens are signed with. */
  current: SigningKeyPair;
  /** Every key a token may be signed with (the current one and ones being rotated out), by kid. */
  verifying: ReadonlyMap<string, KeyObject>;
}

export interface TokenKeySource {
  /** The keys to sign and verify with now: synchronous, no I/O. */
  keys(): TokenKeys;
  /** A token names a key id `keys()` lacks: the keys after a re-read when one is due, else the same keys. */
  keysForUnknownKid(): Promise<TokenKeys>;
}

export function fixedTokenKeys(keys: TokenKeys): TokenKeySource {
  return { keys: () => keys, keysForUnknownKid: () => Promise.resolve(keys) };
}

export const isTokenKeySource = (k: TokenKeys | TokenKeySource): k is TokenKeySource => typeof (k as Partial<TokenKeySource>).keys === 'function';

export const KEY_REFRESH_MS = 5 * 60_000;
export const UNKNOWN_KID_REREAD_MS = 30_000;

export interface RereadTokenKeysOptions {
  /** Reads the keys (token-keys.ts derives them from their seeds). */
  load: () => Promise<TokenKeys>;
  refreshMs?: number;
  unknownKidMs?: number;
  now?: () => number;
  /** A re-read that failed (the keys read before stay in use). */
  onError?: (error: unknown) => void;
}

export class RereadTokenKeys implements TokenKeySource {
  #keys: TokenKeys;
  #lastRead: number;
  #nextRefresh: number;
  #reading: Promise<TokenKeys> | undefined;
  readonly #load: () => Promise<TokenKeys>;
  readonly #refreshMs: number;
  readonly #unknownKidMs: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;

  private constructor(keys: TokenKeys, opts: RereadTokenKeysOptions) {
    this.#keys = keys;
    this.#load = opts.load;
    this.#refreshMs = opts.refreshMs ?? KEY_REFRESH_MS;
    this.#unknownKidMs = opts.unknownKidMs ?? UNKNOWN_KID_REREAD_MS;
    this.#now = opts.now ?? Date.now;
    this.#onError = opts.onError ?? (() => undefined);
    this.#lastRead = this.#now();
    this.#nextRefresh = this.#lastRead + this.#refreshMs;
  }

  /** Reads the keys once (a failure here fails the start) and re-reads them from then on. */
  static async start(opts: RereadTokenKeysOptions): Promise<RereadTokenKeys> {
    return new RereadTokenKeys(await opts.load(), opts);
  }

  keys(): TokenKeys {
    if (this.#reading === undefined && this.#now() >= this.#nextRefresh) this.#reread().catch(() => undefined);
    return this.#keys;
  }

  async keysForUnknownKid(): Promise<TokenKeys> {
    if (this.#reading === undefined && this.#now() - this.#lastRead < this.#unknownKidMs) return this.#keys;
    return this.#reread().catch(() => this.#keys);
  }

  /** One read at a time: callers during a read share it. */
  #reread(): Promise<TokenKeys> {
    if (this.#reading) return this.#reading;
    this.#lastRead = this.#now();
    const reading = this.#read();
    this.#reading = reading;
    const done = () => {
      this.#reading = undefined;
    };
    reading.then(done, done);
    return reading;
  }

  async #read(): Promise<TokenKeys> {
    try {
      const keys = await this.#load();
      this.#keys = keys;
      this.#nextRefresh = this.#now() + this.#refreshMs;
      return keys;
    } catch (e) {
      this.#nextRefresh = this.#now() + this.#unknownKidMs;
      this.#onError(e);
      throw e;
    }
  }
}
