// The behaviour every MetadataStore adapter must show (functions/core/ports.ts), as one vitest suite:
// `metadataStoreContract('sqlite', open)` in the adapter's test file runs it. Each test opens a fresh,
// empty store. Nothing here knows which database is underneath.
import { afterEach, beforeEach, describe } from 'vitest';
import type { MetadataStore } from '../../functions/core/ports.ts';
import { blobsContract } from './blobs.contract-part.ts';
import { gcContract } from './gc.contract-part.ts';
import { immutableTagsContract } from './immutable-tags.contract-part.ts';
import { listingsContract } from './listings.contract-part.ts';
import { quotaContract } from './quota.contract-part.ts';
import { manifestsContract } from './manifests.contract-part.ts';
import { tagTimesContract } from './tag-times.contract-part.ts';
import { uploadsContract } from './uploads.contract-part.ts';

export interface OpenedStore {
  store: MetadataStore;
  close?(): Promise<void> | void;
}

export type OpenStore = () => Promise<OpenedStore> | OpenedStore;

/** Gives each test its own empty store through `current()`. */
export interface StoreFixture {
  current(): MetadataStore;
}

/** Each test makes dozens of store calls (races loop); over the wire that takes seconds, not ms. */
const TEST_TIMEOUT_MS = 60_000;

export function metadataStoreContract(name: string, open: OpenStore): void {
  describe(`MetadataStore contract: ${name}`, { timeout: TEST_TIMEOUT_MS }, () => {
    let opened: OpenedStore | undefined;
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => {
      await opened?.close?.();
      opened = undefined;
    });
    const fixture: StoreFixture = {
      current() {
        if (opened === undefined) throw new Error('no store open');
        return opened.store;
      },
    };
    uploadsContract(fixture);
    blobsContract(fixture);
    manifestsContract(fixture);
    immutableTagsContract(fixture);
    listingsContract(fixture);
    gcContract(fixture);
    tagTimesContract(fixture);
    quotaContract(fixture);
  });
}
