// Upload sessions: one item each under `U#<id>`, found by key (never listed). DynamoDB TTL deletes
// an expired item some time after its `ttl`; until then reads treat it as absent.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UploadLease, UploadSession } from '../../core/ports.ts';
import type { DynamoOps } from './dynamo-ops.ts';
import { toUpload, ttlSeconds, uploadItem, type Item } from './items.ts';
import { uploadKey } from './keys.ts';

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

/** Attribute names used in upload expressions (several are DynamoDB reserved words). */
const N = {
  '#pk': 'pk', '#off': 'off', '#state': 'state', '#updated': 'updated', '#expires': 'expires', '#ttl': 'ttl', '#lh': 'lh', '#lu': 'lu',
};
function names(expression: string): Record<string, string> {
  return Object.fromEntries(Object.entries(N).filter(([k]) => expression.includes(k)));
}

export class DynamoUploads {
  private readonly ops: DynamoOps;
  private readonly now: () => number;

  constructor(ops: DynamoOps, now: () => number) {
    this.ops = ops;
    this.now = now;
  }

  private expired(item: Item): boolean {
    return this.now() > (item.expires as number);
  }

  /** 1 PutItem. */
  async createUpload(session: UploadSession): Promise<void> {
    await this.ops.doc.send(new PutCommand({
      TableName: this.ops.table,
      Item: uploadItem(session),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: names('#pk'),
    }));
  }

  /** 1 GetItem (consistent). */
  async getUpload(id: string): Promise<UploadSession | undefined> {
    const { Item: item } = await this.ops.doc.send(new GetCommand({ TableName: this.ops.table, Key: uploadKey(id), ConsistentRead: true }));
    return item === undefined || this.expired(item) ? undefined : toUpload(item);
  }

  /** 1 conditional UpdateItem; the holder of a live lease renews it. */
  async leaseUpload(id: string, expectedOffset: number, lease: UploadLease, now: number): Promise<boolean> {
    const condition = 'attribute_exists(#pk) AND #off = :off AND #expires > :now AND (attribute_not_exists(#lu) OR #lu <= :now OR #lh = :h)';
    const update = 'SET #lh = :h, #lu = :u';
    return this.conditional(new UpdateCommand({
      TableName: this.ops.table,
      Key: uploadKey(id),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names(condition + update),
      ExpressionAttributeValues: { ':off': expectedOffset, ':now': now, ':h': lease.holder, ':u': lease.until },
    }));
  }

  /** 1 conditional UpdateItem: applies only while `holder` is the recorded lease holder. */
  async updateUpload(id: string, holder: string, next: Pick<UploadSession, 'offset' | 'state' | 'updatedAt' | 'expiresAt'>): Promise<boolean> {
    const condition = '#lh = :h';
    const update = 'SET #off = :off, #state = :state, #updated = :updated, #expires = :expires, #ttl = :ttl REMOVE #lh, #lu';
    return this.conditional(new UpdateCommand({
      TableName: this.ops.table,
      Key: uploadKey(id),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names(condition + update),
      ExpressionAttributeValues: {
        ':h': holder, ':off': next.offset, ':state': next.state, ':updated': next.updatedAt,
        ':expires': next.expiresAt, ':ttl': ttlSeconds(next.expiresAt),
      },
    }));
  }

  /** 1 conditional UpdateItem; a lease held by another (or none) is left alone. */
  async releaseUpload(id: string, holder: string): Promise<void> {
    const condition = '#lh = :h';
    const update = 'REMOVE #lh, #lu';
    await this.conditional(new UpdateCommand({
      TableName: this.ops.table,
      Key: uploadKey(id),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names(condition + update),
      ExpressionAttributeValues: { ':h': holder },
    }));
  }

  /** 1 DeleteItem; an expired session counts as absent (but its item is deleted all the same). */
  async deleteUpload(id: string): Promise<boolean> {
    const { Attributes: old } = await this.ops.doc.send(new DeleteCommand({ TableName: this.ops.table, Key: uploadKey(id), ReturnValues: 'ALL_OLD' }));
    return old !== undefined && !this.expired(old);
  }

  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.ops.doc.send(command);
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
