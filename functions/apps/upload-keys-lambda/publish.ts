// Publishes the upload-token keys of the signing keys secret into the edge's KeyValueStore: one entry
// `upload-key-<kid>` = base64(key) per key the API verifies with (the current one and `previous`),
// and removes `upload-key-*` entries of keys no longer in the secret. Other keys are left alone.
// The secret never enters a template: this runs in a Lambda at deploy time (custom resource) or when
// invoked after a rotation (docs/deploy.md).
import { parseSigningKeys } from '../../aws/signing-keys.ts';
import { uploadKeyName } from '../../edge/source.ts';
import { KvsError, type KvsClient, type KvsItem } from './kvs.ts';

export const UPLOAD_KEY_PREFIX = uploadKeyName('');

/** The KeyValueStore entries for the secret's JSON, as the viewer-request function reads them. */
export function uploadKeyEntries(secretJson: string): KvsItem[] {
  const { upload } = parseSigningKeys(secretJson);
  const seen = new Set<string>();
  const items: KvsItem[] = [];
  for (const k of upload) {
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(k.id)) throw new Error(`signing keys secret: kid ${JSON.stringify(k.id)} must be 1-16 of A-Z a-z 0-9 _ - (the token format)`);
    if (seen.has(k.id)) throw new Error(`signing keys secret: kid ${JSON.stringify(k.id)} appears twice`);
    seen.add(k.id);
    items.push({ Key: uploadKeyName(k.id), Value: Buffer.from(k.secret).toString('base64') });
  }
  return items;
}

export interface PublishResult {
  readonly put: string[];
  readonly deleted: string[];
  readonly unchanged: string[];
}

export interface PublishOptions {
  readonly attempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Makes the store's `upload-key-*` entries exactly `wanted`, in one conditional UpdateKeys. Retries
 * when the store is not ready yet or another writer changed it between Describe and Update.
 */
export async function publishUploadKeys(kvs: KvsClient, arn: string, wanted: readonly KvsItem[], opts: PublishOptions = {}): Promise<PublishResult> {
  const attempts = opts.attempts ?? 6;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      const { etag, status } = await kvs.describe(arn);
      if (status !== 'READY') throw new KvsError(409, 'NotReady', `store status ${status}`);
      const existing = new Map((await kvs.listKeys(arn)).filter((i) => i.Key.startsWith(UPLOAD_KEY_PREFIX)).map((i) => [i.Key, i.Value]));
      const puts = wanted.filter((w) => existing.get(w.Key) !== w.Value);
      const keep = new Set(wanted.map((w) => w.Key));
      const deletes = [...existing.keys()].filter((k) => !keep.has(k));
      if (puts.length || deletes.length) await kvs.updateKeys(arn, etag, puts, deletes);
      return { put: puts.map((p) => p.Key), deleted: deletes, unchanged: wanted.filter((w) => !puts.includes(w)).map((w) => w.Key) };
    } catch (e) {
      const retryable = e instanceof KvsError && (e.status === 409 || e.status === 412 || e.status === 429 || e.status >= 500);
      if (!retryable || attempt >= attempts) throw e;
      await sleep(Math.min(1000 * 2 ** (attempt - 1), 10_000));
    }
  }
}
