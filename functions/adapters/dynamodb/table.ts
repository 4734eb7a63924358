// The one DynamoDB table of the metadata store: string partition key `pk`, string sort key `sk`,
// TTL on `ttl` (epoch seconds), on-demand billing, no secondary index. The CDK app declares the same
// table; tests and `start:aws` create it from `tableDefinition` so all three agree.
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** Attribute holding the item's expiry for DynamoDB TTL, in epoch seconds. */
export const TTL_ATTRIBUTE = 'ttl';

export function tableDefinition(tableName: string): CreateTableInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Creates the table (if missing), waits until it is ACTIVE and turns TTL on. For tests and `start:aws`. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i > 200) throw new Error(`table ${tableName} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    await client.send(new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }));
  } catch (err) {
    // Enabling TTL twice is refused ("TimeToLive is already enabled"); that is the state we want.
    if (!/already enabled/i.test((err as Error).message)) throw err;
  }
}
