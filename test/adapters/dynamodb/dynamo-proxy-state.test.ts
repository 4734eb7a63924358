// The pull-through cache's leases and tag checks on DynamoDB Local: two clients of one table (two
// Lambda containers) run the ProxyStateStore contract.
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoProxyState } from '../../../functions/adapters/dynamodb/dynamo-proxy-state.ts';
import { proxyStateContract } from '../../contract/proxy-state.contract.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

const local = useDynamoLocal();

proxyStateContract('DynamoDB Local, two containers', async () => {
  const table = await local.get().createTable();
  const [ca, cb] = [local.get().client(), local.get().client()];
  return {
    a: new DynamoProxyState(DynamoDBDocumentClient.from(ca), table),
    b: new DynamoProxyState(DynamoDBDocumentClient.from(cb), table),
    close: async () => {
      ca.destroy();
      cb.destroy();
    },
  };
});
