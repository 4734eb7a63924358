// The pull-through cache's leases and tag checks (core/proxy/state.ts) on the registry's table:
//
//   pk                        sk       item
//   PROXY#LEASE#<key>         -        holder, until (epoch ms); ttl cleans up leases nobody released
//   PROXY#TAG#<repository>    <tag>    checkedAt (epoch ms)
//
// A lease is one conditional UpdateItem (taken when absent, expired, or held by the same holder), so
// every Lambda and task shares it; a release is one conditional DeleteItem.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProxyStateStore } from '../../core/proxy/state.ts';
import { TTL_ATTRIBUTE } from './table.ts';

const lease = (key: string) => ({ pk: `PROXY#LEASE#${key}`, sk: '-' });
const tag = (repository: string, name: string) => ({ pk: `PROXY#TAG#${repository}`, sk: name });
/** DynamoDB's TTL deletes an expired lease item within days: only tidying, the condition decides. */
const TTL_SLACK_SECONDS = 3600;

export class DynamoProxyState implements ProxyStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, table: string) {
    this.#doc = doc;
    this.#table = table;
  }

  async lease(key: string, holder: string, until: number, now: number): Promise<boolean> {
    try {
      await this.#doc.send(new UpdateCommand({
        TableName: this.#table,
        Key: lease(key),
        UpdateExpression: 'SET #h = :h, #u = :u, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(pk) OR #u <= :now OR #h = :h',
        ExpressionAttributeNames: { '#h': 'holder', '#u': 'until', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':h': holder, ':u': until, ':now': now, ':ttl': Math.ceil(until / 1000) + TTL_SLACK_SECONDS },
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async release(key: string, holder: string): Promise<void> {
    try {
      await this.#doc.send(new DeleteCommand({ TableName: this.#table, Key: lease(key), ConditionExpression: '#h = :h', ExpressionAttributeNames: { '#h': 'holder' }, ExpressionAttributeValues: { ':h': holder } }));
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  async tagCheckedAt(repository: string, name: string): Promise<number | undefined> {
    const out = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: tag(repository, name), ConsistentRead: true }));
    return typeof out.Item?.checkedAt === 'number' ? out.Item.checkedAt : undefined;
  }

  async setTagChecked(repository: string, name: string, at: number): Promise<void> {
    await this.#doc.send(new PutCommand({ TableName: this.#table, Item: { ...tag(repository, name), checkedAt: at } }));
  }
}
