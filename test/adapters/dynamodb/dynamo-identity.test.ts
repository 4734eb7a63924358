// The IdentityStore contract against DynamoDB Local over the wire (a fresh table per test).
import { afterAll, beforeAll } from 'vitest';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../../../functions/adapters/dynamodb/dynamo-identity.ts';
import { identityStoreContract } from '../../contract/identity-store.contract.ts';
import { startDynamoLocal, type DynamoLocal } from '../../support/dynamodb-local.ts';

let dynamo: DynamoLocal;

beforeAll(async () => {
  dynamo = await startDynamoLocal();
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

identityStoreContract('DynamoDB Local', async () => {
  const table = await dynamo.createTable();
  const client = dynamo.client();
  return { store: new DynamoIdentityStore(DynamoDBDocumentClient.from(client), table), close: async () => client.destroy() };
});
