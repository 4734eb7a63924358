// The CDN in front of the registry in AWS, purged through CloudFront's API when a delete makes what
// it may hold stale. Which distribution: the read-routing CloudFront Function writes its own id into
// every request of the API behaviour (over any header of that name a viewer sends), and a DELETE only
// ever comes through that behaviour; the origin secret proves the request came through CloudFront.
// One CreateInvalidation per delete (a wildcard path: one billed path), asynchronous at CloudFront's
// end (it reaches every edge location within minutes). A failure is reported, never turned into the
// delete's failure: the entries then live out their max-age (a day at most, core/shared-cache.ts).
import { randomUUID } from 'node:crypto';
import { CreateInvalidationCommand, ListDistributionsCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { header, type RegistryRequest } from '../../core/http.ts';
import type { SharedCache } from '../../core/shared-cache.ts';

/** The comment the CDK app gives an environment's distribution (infra/stacks/edge-stack.ts): how tools outside a request find it. */
export const distributionComment = (envName: string): string => `OCI registry ${envName}`;

/** Set by functions/edge/read-routing.js from the function's context. */
export const DISTRIBUTION_HEADER = 'x-registry-distribution';
const DISTRIBUTION_ID = /^[A-Z0-9]{1,32}$/;

/** One CreateInvalidation of `paths` in distribution `id` (a fresh caller reference each time). */
async function invalidate(client: CloudFrontClient, id: string, paths: readonly string[]): Promise<void> {
  await client.send(new CreateInvalidationCommand({
    DistributionId: id,
    InvalidationBatch: { CallerReference: randomUUID(), Paths: { Quantity: paths.length, Items: [...paths] } },
  }));
}

export class CloudFrontCache implements SharedCache {
  readonly #client: CloudFrontClient;
  readonly #onError: (error: unknown, detail: { paths: readonly string[] }) => void;

  constructor(client: CloudFrontClient, onError: (error: unknown, detail: { paths: readonly string[] }) => void) {
    this.#client = client;
    this.#onError = onError;
  }

  async purge(req: RegistryRequest, paths: readonly string[]): Promise<void> {
    const id = header(req, DISTRIBUTION_HEADER);
    try {
      if (id === undefined || !DISTRIBUTION_ID.test(id)) throw new Error(`no CloudFront distribution id on the request (${DISTRIBUTION_HEADER})`);
      await invalidate(this.#client, id, paths);
    } catch (e) {
      this.#onError(e, { paths });
    }
  }
}

/**
 * Purges `paths` from the distribution whose comment is `comment` (the CDK app writes
 * `OCI registry <env>`), for tools that run outside a request (`npm run admin -- --aws`), which have
 * no request to read the id from. One ListDistributions page at a time until it is found.
 */
export async function purgeDistribution(client: CloudFrontClient, comment: string, paths: readonly string[]): Promise<string> {
  let marker: string | undefined;
  do {
    const page = (await client.send(new ListDistributionsCommand(marker === undefined ? {} : { Marker: marker }))).DistributionList;
    const found = page?.Items?.find((d) => d.Comment === comment);
    if (found?.Id) {
      await invalidate(client, found.Id, paths);
      return found.Id;
    }
    marker = page?.IsTruncated ? page.NextMarker : undefined;
  } while (marker !== undefined);
  throw new Error(`no CloudFront distribution with the comment ${JSON.stringify(comment)} in this account`);
}
