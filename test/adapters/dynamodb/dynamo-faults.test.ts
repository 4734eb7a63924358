// Faults DynamoDB Local does not produce on demand (aws-sdk-client-mock): unprocessed batch keys,
// transactions that keep losing, cancellations that are not races.
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoMetadataStore } from '../../../functions/adapters/dynamodb/dynamo-metadata.ts';
import { MetadataContentionError } from '../../../functions/adapters/dynamodb/dynamo-ops.ts';
import { linkKey, manifestKey } from '../../../functions/adapters/dynamodb/keys.ts';
import { blob, randomDigest } from '../../contract/fixtures.ts';

const TABLE = 't';
const mock = mockClient(DynamoDBDocumentClient);
const store = () => new DynamoMetadataStore({ client: new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), tableName: TABLE });
const cancelled = (code: string) => new TransactionCanceledException({
  message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: code }],
});

afterEach(() => {
  mock.reset();
});

describe('DynamoDB adapter under faults', () => {
  it('asks again for unprocessed batch keys until all are read', async () => {
    const b = blob();
    const m = randomDigest();
    mock.on(BatchGetCommand)
      .resolvesOnce({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [linkKey('r', b.digest), manifestKey('r', m)] } } })
      .resolvesOnce({ Responses: { [TABLE]: [{ ...linkKey('r', b.digest), digest: b.digest, size: b.size, loc: b.location, created: b.createdAt }] }, UnprocessedKeys: { [TABLE]: { Keys: [manifestKey('r', m)] } } })
      .resolvesOnce({ Responses: { [TABLE]: [{ ...manifestKey('r', m), digest: m, size: 10, mt: 'application/x' }] } });
    const refs = await store().getReferences('r', [b.digest, m]);
    expect(refs.blobs.get(b.digest)).toEqual(b);
    expect(refs.manifests.get(m)).toEqual({ digest: m, size: 10, mediaType: 'application/x' });
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(3);
    const third = mock.commandCalls(BatchGetCommand)[2]!.args[0].input;
    expect(third.RequestItems?.[TABLE]?.Keys).toEqual([manifestKey('r', m)]);
    expect(third.RequestItems?.[TABLE]?.ConsistentRead).toBe(true);
  });

  it('gives up with MetadataContentionError when a transaction keeps losing races', async () => {
    mock.on(GetCommand).resolves({ Item: { digest: randomDigest() } });
    mock.on(TransactWriteCommand).rejects(cancelled('TransactionConflict'));
    await expect(store().deleteTag('r', 'v1')).rejects.toBeInstanceOf(MetadataContentionError);
    expect(mock.commandCalls(TransactWriteCommand).length).toBeGreaterThan(3);
  }, 20_000);

  it('retries a lost race and succeeds once the transaction applies', async () => {
    mock.on(GetCommand).resolves({ Item: { rev: 1 } });
    mock.on(QueryCommand).resolves({ Items: [] });
    mock.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed')).resolves({});
    expect(await store().deleteManifest('r', randomDigest())).toBe(true);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('a cancellation that is not a race is thrown at once', async () => {
    mock.on(GetCommand).resolves({ Item: { digest: randomDigest() } });
    mock.on(TransactWriteCommand).rejects(cancelled('ValidationError'));
    await expect(store().deleteTag('r', 'v1')).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});
