// Blob read URLs through CloudFront: a signed URL with a canned policy (the key group on the blob
// behaviour checks it), short-lived. The path is the object's key, which names one blob, and the
// signature query string is left out of CloudFront's cache key, so one cached copy at an edge
// location serves every puller of that blob.
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { UrlSigner } from './url-signer.ts';

export interface CloudFrontUrlOptions {
  /** e.g. `https://registry.example.com` (the distribution's domain). */
  baseUrl: string;
  /** The CloudFront public key's id (in the distribution's trusted key group). */
  keyPairId: string;
  /** PEM of the matching private key. */
  privateKey: string;
  now?: () => number;
}

export class CloudFrontUrls implements UrlSigner {
  readonly #base: URL;
  readonly #keyPairId: string;
  readonly #privateKey: string;
  readonly #now: () => number;

  constructor(opts: CloudFrontUrlOptions) {
    this.#base = new URL(opts.baseUrl);
    if (this.#base.protocol !== 'https:') throw new Error('CDN_URL must be an https URL');
    this.#keyPairId = opts.keyPairId;
    this.#privateKey = opts.privateKey;
    this.#now = opts.now ?? Date.now;
  }

  async sign(location: string, expiresInSeconds: number): Promise<string> {
    // Keys hold only [a-z0-9/._-] (digests, session ids, repository names), so the path is the key.
    const url = new URL(`/${location.split('/').map(encodeURIComponent).join('/')}`, this.#base).href;
    return getSignedUrl({
      url,
      keyPairId: this.#keyPairId,
      privateKey: this.#privateKey,
      dateLessThan: new Date(this.#now() + expiresInSeconds * 1000),
    });
  }
}
