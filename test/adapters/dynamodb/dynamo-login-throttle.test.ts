// The table-backed throttle against DynamoDB Local: two instances (two Lambda containers) on one
// table share their counts; each check is 2 GetItem, each failure 2 UpdateItem.
import { describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLoginThrottle } from '../../../functions/adapters/dynamodb/dynamo-login-throttle.ts';
import { countCalls } from '../../../functions/aws/call-counter.ts';
import { CONTRACT_LIMITS, loginThrottleContract } from '../../contract/login-throttle.contract.ts';
import { useDynamoLocal } from '../../support/dynamodb-local.ts';

const local = useDynamoLocal();

const open = async () => {
  const table = await local.get().createTable();
  const [ca, cb] = [local.get().client(), local.get().client()];
  return {
    a: new DynamoLoginThrottle(DynamoDBDocumentClient.from(ca), table, CONTRACT_LIMITS),
    b: new DynamoLoginThrottle(DynamoDBDocumentClient.from(cb), table, CONTRACT_LIMITS),
    close: async () => {
      ca.destroy();
      cb.destroy();
    },
    client: ca,
  };
};

loginThrottleContract('DynamoDB Local, two containers', open);

describe('DynamoLoginThrottle requests', () => {
  it('a check is 2 GetItem, a failure 2 UpdateItem', async () => {
    const { a, close, client } = await open();
    try {
      const counts = countCalls(client);
      await a.retryAfter('alice', '192.0.2.1');
      expect(counts.calls).toEqual({ GetItem: 2 });
      counts.reset();
      await a.failed('alice', '192.0.2.1');
      expect(counts.calls).toEqual({ UpdateItem: 2 });
    } finally {
      await close();
    }
  });
});
