// DynamoDB Local for the tests: the same launcher `npm run start:aws` uses.
import { afterAll, beforeAll } from 'vitest';
import { startDynamoLocal, type DynamoLocal } from '../../dev/start-aws/dynamodb-local.ts';

export { dynamoClient, startDynamoLocal, type DynamoLocal } from '../../dev/start-aws/dynamodb-local.ts';

/** One DynamoDB Local for the test file: started before its tests, stopped after; call `get()` inside a test or hook. */
export function useDynamoLocal(): { get(): DynamoLocal } {
  let dynamo: DynamoLocal | undefined;
  beforeAll(async () => {
    dynamo = await startDynamoLocal();
  }, 90_000);
  afterAll(async () => {
    await dynamo?.stop();
  });
  return {
    get() {
      if (!dynamo) throw new Error('DynamoDB Local is not started (use it inside a test or hook)');
      return dynamo;
    },
  };
}
