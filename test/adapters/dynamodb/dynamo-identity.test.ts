// The IdentityStore contract against DynamoDB Local over the wire (a fresh table per test).
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoIdentityStore } from '../../../functions/adapters/dynamodb/dynamo-identity.ts';
import { identityStoreContract } from '../../contract/identity-store.contract.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

const local = useDynamoLocal();

identityStoreContract('DynamoDB Local', async () => {
  const table = await local.get().createTable();
  const client = local.get().client();
  return { store: new DynamoIdentityStore(DynamoDBDocumentClient.from(client), table), close: async () => client.destroy() };
});
